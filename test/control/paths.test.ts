// CHAT_HOME's default must be exactly oclif's data directory: the daemon and the fast path compute it
// without oclif, and a difference would make them look for the daemon in the wrong place.
import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, test } from 'node:test';
import { Config } from '@oclif/core';
import { defaultChatHome, InvalidProfileError, resolveProfilePaths } from '../../src/control/paths.ts';
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
});
