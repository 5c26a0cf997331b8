// CHAT_HOME's default must be exactly oclif's data directory: the daemon and the fast path compute it
// without oclif, and a difference would make them look for the daemon in the wrong place.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { Config } from '@oclif/core';
import { controlSocketLocation, defaultChatHome, InvalidProfileError, resolveProfilePaths, type SocketSystem } from '../../src/control/paths.ts';
import { ROOT } from '../helpers/chat.ts';

const VARIABLES = ['CHAT_DATA_DIR', 'XDG_DATA_HOME', 'HOME'] as const;

async function withEnv<T>(values: Partial<Record<(typeof VARIABLES)[number], string>>, run: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(VARIABLES.map((name) => [name, process.env[name]]));
  for (const name of VARIABLES) {
    if (values[name] === undefined) delete process.env[name];
    else process.env[name] = values[name];
  }
  try {
    return await run();
  } finally {
    for (const name of VARIABLES) {
      if (saved[name] === undefined) delete process.env[name];
      else process.env[name] = saved[name];
    }
  }
}

describe('control paths', () => {
  const cases: Array<Partial<Record<(typeof VARIABLES)[number], string>>> = [
    { HOME: '/home/alice' },
    { HOME: '/home/alice', XDG_DATA_HOME: '/data' },
    { HOME: '/home/alice', XDG_DATA_HOME: '' },
    { HOME: '/home/alice', CHAT_DATA_DIR: '/srv/chat' },
  ];
  for (const env of cases) {
    test(`default CHAT_HOME equals oclif's dataDir with ${JSON.stringify(env)}`, async () => {
      const [ours, oclifs] = await withEnv(env, async () => [defaultChatHome(), (await Config.load(ROOT)).dataDir]);
      assert.equal(ours, oclifs);
    });
  }

  test('Windows: LOCALAPPDATA unless XDG_DATA_HOME is set', () => {
    assert.equal(defaultChatHome({ LOCALAPPDATA: 'C:\\Users\\a\\AppData\\Local', HOME: 'C:\\Users\\a' }, 'win32'), path.join('C:\\Users\\a\\AppData\\Local', 'chat'));
    assert.equal(defaultChatHome({ LOCALAPPDATA: 'C:\\x', XDG_DATA_HOME: '/xdg' }, 'win32'), path.join('/xdg', 'chat'));
  });

  test('profile names that could escape the home directory are refused', () => {
    for (const profile of ['..', '../x', 'a/b', '.hidden', '', 'x'.repeat(65)]) {
      assert.throws(() => resolveProfilePaths({ home: '/tmp/h', profile: profile || '/' }), InvalidProfileError, profile);
    }
    assert.equal(resolveProfilePaths({ home: '/tmp/h', profile: 'alice.work_1' }).dir, path.join('/tmp/h', 'profiles', 'alice.work_1'));
  });

  test('a socket path too long for sun_path moves to a short one in the temp directory', () => {
    const paths = resolveProfilePaths({ home: `/tmp/${'long-directory-name/'.repeat(6)}`, profile: 'p' });
    assert.ok(Buffer.byteLength(paths.socket) <= 100, paths.socket);
    assert.notEqual(path.dirname(paths.socket), paths.runDir);
    const again = resolveProfilePaths({ home: `/tmp/${'long-directory-name/'.repeat(6)}`, profile: 'p' });
    assert.equal(again.socket, paths.socket, 'the same profile always finds the same socket');
  });

  describe('where the socket goes when the profile path is too long', () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'chat-paths-'));
    after(() => rmSync(root, { recursive: true, force: true }));
    const uid = process.getuid?.() ?? 0;
    const longRunDir = `/home/alice/${'long-directory-name/'.repeat(6)}profiles/p/run`;
    const digest = createHash('sha256').update(longRunDir).digest('hex').slice(0, 24);
    const tmpdir = path.join(root, 'tmp');
    const inTmp = { path: path.join(tmpdir, `chat-${uid}`, `${digest}.sock`), place: 'tmp' };
    const system = (env: NodeJS.ProcessEnv): SocketSystem => ({ platform: 'linux', env, tmpdir, uid });
    const runtimeDir = (name: string, mode = 0o700): string => {
      const dir = path.join(root, name);
      mkdirSync(dir);
      chmodSync(dir, mode);
      return dir;
    };

    test('a path that fits stays in the profile, whatever XDG_RUNTIME_DIR is', () => {
      const runDir = '/home/alice/.local/share/chat/profiles/p/run';
      const location = controlSocketLocation(runDir, system({ XDG_RUNTIME_DIR: runtimeDir('fits') }));
      assert.deepEqual(location, { path: path.join(runDir, 'control.sock'), place: 'profile' });
    });

    test('a private XDG_RUNTIME_DIR of ours holds it in chat/', () => {
      const runtime = runtimeDir('good');
      assert.deepEqual(controlSocketLocation(longRunDir, system({ XDG_RUNTIME_DIR: runtime })), {
        path: path.join(runtime, 'chat', `${digest}.sock`), place: 'runtime',
      });
    });

    test('otherwise the per-user folder in the temp directory', () => {
      const file = path.join(root, 'a-file');
      writeFileSync(file, '');
      const symlink = path.join(root, 'link');
      symlinkSync(runtimeDir('link-target'), symlink);
      const cases: Record<string, string | undefined> = {
        unset: undefined,
        empty: '',
        relative: 'run/user',
        missing: path.join(root, 'missing'),
        'a file': file,
        'a symbolic link': symlink,
        'readable by others': runtimeDir('loose', 0o755),
        'writable by others': runtimeDir('open', 0o777),
        'too long for the socket': runtimeDir('x'.repeat(90)),
      };
      if (uid === 0) {
        const foreign = runtimeDir('foreign');
        chownSync(foreign, 65534, 65534);
        cases['owned by another user'] = foreign;
      }
      for (const [what, value] of Object.entries(cases)) {
        assert.deepEqual(controlSocketLocation(longRunDir, system(value === undefined ? {} : { XDG_RUNTIME_DIR: value })), inTmp, what);
      }
    });

    test('Windows: a named pipe from the same digest', () => {
      assert.deepEqual(controlSocketLocation(longRunDir, { ...system({}), platform: 'win32' }), { path: `/chat-${digest}`, place: 'pipe' });
    });
  });
});
