// `chat send`, `chat transfer` and `chat daemon status` run without oclif (src/cli/fast-path.ts). Both ways must
// be indistinguishable: same exit codes, same output, same errors.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { ChatHome, type RunResult, type RunOptions } from '../helpers/chat.ts';

/** Message ids and times differ per run; everything else must match. */
function normalise(result: RunResult): RunResult {
  const scrub = (text: string) =>
    text
      .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, '<id>')
      .replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z/g, '<time>');
  return { ...result, stdout: scrub(result.stdout), stderr: scrub(result.stderr) };
}

describe('fast path and oclif agree', { timeout: 120_000 }, () => {
  let home: ChatHome;

  let file: string;

  before(async () => {
    home = await ChatHome.create();
    file = path.join(home.dir, 'notes é.txt');
    writeFileSync(file, 'a small file for chat transfer\n'.repeat(100));
    await home.startDaemon('alice');
    const bob = await home.startDaemon('bob');
    // carol was connected to dave once: her messages are queued for him while he is away.
    await home.startDaemon('carol');
    const dave = await home.startDaemon('dave');
    assert.equal((await home.run(['connect', '--profile', 'carol', String(dave.port)])).code, 0);
    assert.equal((await home.run(['daemon', 'stop', '--profile', 'dave'])).code, 0);
    assert.equal((await home.run(['connect', '--profile', 'alice', String(bob.port)])).code, 0);
  });
  after(async () => {
    await home.cleanup();
  });

  const cases: Array<{ name: string; args: string[]; options?: RunOptions }> = [
    { name: 'send', args: ['send', '--profile', 'alice', 'hello', 'there'] },
    { name: 'send --json', args: ['send', '-p', 'alice', '--json', 'hi'] },
    { name: 'send from stdin', args: ['send', '--profile=alice'], options: { input: 'from stdin\n' } },
    { name: 'send -- -x', args: ['send', '--profile', 'alice', '--', '-x'] },
    { name: 'send empty', args: ['send', '--profile', 'alice', ''] },
    { name: 'send empty --json', args: ['send', '--profile', 'alice', '--json'], options: { input: '' } },
    { name: 'send, profile from env', args: ['send', 'env'], options: { env: { CHAT_PROFILE: 'alice' } } },
    { name: 'send, no daemon', args: ['send', '--profile', 'nobody', 'x'] },
    { name: 'send, no daemon --json', args: ['send', '--profile', 'nobody', '--json', 'x'] },
    { name: 'send, not connected', args: ['send', '--profile', 'bobless', 'x'] },
    { name: 'send, bad profile', args: ['send', '--profile', '../x', 'x'] },
    { name: 'send --id (the second run is a retry)', args: ['send', '--profile', 'alice', '--id', '6f1e2d3c-4b5a-4e9d-8c7d-0e9d4c1a3b2f', 'once'] },
    { name: 'send --id, another text', args: ['send', '--profile', 'alice', '--id', '6f1e2d3c-4b5a-4e9d-8c7d-0e9d4c1a3b2f', 'twice'] },
    { name: 'send --id, not a UUID', args: ['send', '--profile', 'alice', '--id', 'nope', 'x'] },
    { name: 'send --timeout', args: ['send', '--profile', 'alice', '--timeout', '2.5', 'x'] },
    { name: 'send --timeout=, not a number', args: ['send', '--profile', 'alice', '--timeout=soon', 'x'] },
    { name: 'send --timeout, too long', args: ['send', '--profile', 'alice', '--timeout', '3601', 'x'] },
    { name: 'send --no-wait, connected', args: ['send', '--profile', 'alice', '--no-wait', '--json', 'x'] },
    { name: 'send, peer away: queued', args: ['send', '--profile', 'carol', '--timeout', '0.2', 'for dave'] },
    { name: 'send --no-wait --json, peer away: queued', args: ['send', '--profile', 'carol', '--no-wait', '--json', 'for dave'] },
    { name: 'send --wait --no-wait', args: ['send', '--profile', 'carol', '--wait', '--no-wait', 'x'] },
    { name: 'send, a flag twice', args: ['send', '--profile', 'carol', '--timeout', '1', '--timeout', '0', 'x'] },
    { name: 'transfer', args: ['transfer', '--profile', 'alice', 'FILE'] },
    { name: 'transfer --json', args: ['transfer', '-p', 'alice', '--json', 'FILE'] },
    { name: 'transfer --timeout 30', args: ['transfer', '--profile', 'alice', '--timeout', '30', 'FILE'] },
    { name: 'transfer, a file that is not there', args: ['transfer', '--profile', 'alice', 'no-such-file'] },
    { name: 'transfer, a directory', args: ['transfer', '--profile', 'alice', '.'] },
    { name: 'transfer, no daemon', args: ['transfer', '--profile', 'nobody', 'FILE'] },
    { name: 'transfer, no daemon --json', args: ['transfer', '--profile', 'nobody', '--json', 'FILE'] },
    { name: 'transfer --no-wait --json, peer away: unfinished', args: ['transfer', '--profile', 'carol', '--no-wait', '--json', 'FILE'] },
    { name: 'transfer --timeout 0.2, peer away', args: ['transfer', '--profile', 'carol', '--timeout', '0.2', 'FILE'] },
    { name: 'transfer --timeout, not a number', args: ['transfer', '--profile', 'alice', '--timeout', 'soon', 'FILE'] },
    { name: 'transfer --wait --no-wait', args: ['transfer', '--profile', 'carol', '--wait', '--no-wait', 'FILE'] },
    { name: 'transfer, no file', args: ['transfer', '--profile', 'alice'] },
    { name: 'transfer, two files', args: ['transfer', '--profile', 'alice', 'FILE', 'FILE'] },
    { name: 'tail --no-follow', args: ['tail', '--profile', 'alice', '--no-follow'] },
    { name: 'tail --no-follow --json -n 3', args: ['tail', '--profile', 'alice', '--no-follow', '--json', '-n', '3'] },
    { name: 'tail --no-follow -n0', args: ['tail', '--profile', 'alice', '--no-follow', '-n0'] },
    { name: 'tail --no-follow --since 2 --json', args: ['tail', '--profile', 'alice', '--no-follow', '--since', '2', '--json'] },
    { name: 'tail --no-follow --after=3', args: ['tail', '--profile', 'alice', '--no-follow', '--after=3'] },
    { name: 'tail --no-follow --lines=2, profile from env', args: ['tail', '--no-follow', '--lines=2'], options: { env: { CHAT_PROFILE: 'alice' } } },
    { name: 'tail --no-follow, no daemon', args: ['tail', '--profile', 'nobody', '--no-follow'] },
    { name: 'tail --no-follow, no daemon --json', args: ['tail', '--profile', 'nobody', '--no-follow', '--json'] },
    { name: 'tail --no-follow -n -1', args: ['tail', '--profile', 'alice', '--no-follow', '-n', '-1'] },
    { name: 'tail --no-follow -n abc', args: ['tail', '--profile', 'alice', '--no-follow', '-n', 'abc'] },
    { name: 'tail --no-follow -n 1.5', args: ['tail', '--profile', 'alice', '--no-follow', '-n', '1.5'] },
    { name: 'tail --no-follow -n 007', args: ['tail', '--profile', 'alice', '--no-follow', '-n', '007'] },
    { name: 'tail --no-follow --since 1 --after 2', args: ['tail', '--profile', 'alice', '--no-follow', '--since', '1', '--after', '2'] },
    { name: 'tail --follow --no-follow', args: ['tail', '--profile', 'alice', '--follow', '--no-follow', '-n', '1'] },
    { name: 'tail --no-follow, a stray argument', args: ['tail', '--profile', 'alice', '--no-follow', 'x'] },
    { name: 'status', args: ['daemon', 'status', '--profile', 'alice'] },
    { name: 'status --json', args: ['daemon', 'status', '--profile', 'alice', '--json'] },
    { name: 'status, no daemon', args: ['daemon', 'status', '--profile', 'nobody'] },
    { name: 'status, no daemon --json', args: ['daemon', 'status', '--profile', 'nobody', '--json'] },
  ];

  for (const { name, args: given, options } of cases) {
    test(name, async () => {
      if (name === 'send, not connected') await home.startDaemon('bobless');
      const args = given.map((arg) => (arg === 'FILE' ? file : arg));
      const fast = normalise(await home.run(args, options));
      const oclif = normalise(await home.run(args, { ...options, env: { ...options?.env, CHAT_NO_FAST_PATH: '1' } }));
      // `--no-wait` while connected races the acknowledgement: either answer is right, both ways.
      if (name === 'send --no-wait, connected') {
        for (const result of [fast, oclif]) {
          assert.ok(result.code === 0 || result.code === 4, result.stderr);
          assert.equal(JSON.parse(result.stdout).state, result.code === 0 ? 'delivered' : 'queued');
        }
        return;
      }
      assert.deepEqual(fast, oclif);
    });
  }

  test('the two ways really are different code paths (oclif announces itself under DEBUG=oclif*)', async () => {
    for (const args of [['daemon', 'status', '--profile', 'alice'], ['send', '--profile', 'alice', 'x'], ['transfer', '--profile', 'alice', file], ['tail', '--profile', 'alice', '--no-follow']]) {
      const fast = await home.run(args, { env: { DEBUG: 'oclif*' } });
      const oclif = await home.run(args, { env: { DEBUG: 'oclif*', CHAT_NO_FAST_PATH: '1' } });
      assert.equal(fast.code, 0, fast.stderr);
      assert.doesNotMatch(fast.stderr, /oclif:/, args[0]);
      assert.match(oclif.stderr, /oclif:main/, args[0]);
    }
  });

  test('the fast path loads only the built-ins it uses: no fs/promises, readline, worker_threads or util\'s diff', async () => {
    // An ESM import of node:fs (or node:util) evaluates every export, and with them fs.promises,
    // readline and worker_threads: a few ms of start-up for nothing (docs/benchmarks.md, row 5).
    const hook = path.join(home.dir, 'builtins-hook.mjs');
    writeFileSync(hook, "process.on('exit', () => process.stderr.write('\\nBUILTINS ' + JSON.stringify(process.moduleLoadList.filter((m) => m.startsWith('NativeModule ')).map((m) => m.slice(13))) + '\\n'));\n");
    const unused = ['internal/fs/promises', 'internal/readline/interface', 'worker_threads', 'internal/util/diff'];
    for (const args of [['daemon', 'status', '--profile', 'alice'], ['send', '--profile', 'alice', 'x'], ['transfer', '--profile', 'alice', file], ['tail', '--profile', 'alice', '--no-follow', '-n', '1']]) {
      const result = await home.run(args, { env: { NODE_OPTIONS: `--import "${pathToFileURL(hook).href}"` } });
      assert.equal(result.code, 0, result.stderr);
      const listed = /\nBUILTINS (.*)\n/.exec(result.stderr);
      assert.ok(listed, `no list of built-ins from chat ${args[0]}: ${result.stderr}`);
      const loaded: string[] = JSON.parse(listed[1]!);
      assert.ok(loaded.includes('net'), `chat ${args[0]} loaded node:net, the list is real`);
      assert.deepEqual(unused.filter((name) => loaded.includes(name)), [], `chat ${args[0]}`);
    }
  });

  test('the fast path is one file of ours: bin/ and the bundle (scripts/bundle-fast-path.ts), not 25 modules', async () => {
    // Node's loader costs about 0.2-0.3 ms per ES module file (docs/benchmarks.md, row 5).
    const hook = path.join(home.dir, 'files-hook.mjs');
    writeFileSync(hook, [
      "import { registerHooks } from 'node:module';",
      'const loaded = [];',
      "registerHooks({ load(url, context, next) { if (url.startsWith('file:')) loaded.push(url); return next(url, context); } });",
      "process.on('exit', () => process.stderr.write('\\nFILES ' + JSON.stringify(loaded) + '\\n'));",
      '',
    ].join('\n'));
    const root = pathToFileURL(path.resolve(import.meta.dirname, '..', '..')).href + '/';
    for (const args of [['daemon', 'status', '--profile', 'alice'], ['send', '--profile', 'alice', 'x'], ['transfer', '--profile', 'alice', file], ['tail', '--profile', 'alice', '--no-follow', '-n', '1']]) {
      const result = await home.run(args, { env: { NODE_OPTIONS: `--import "${pathToFileURL(hook).href}"` } });
      assert.equal(result.code, 0, result.stderr);
      const listed = /\nFILES (.*)\n/.exec(result.stderr);
      assert.ok(listed, `no list of files from chat ${args[0]}: ${result.stderr}`);
      const ours = (JSON.parse(listed[1]!) as string[]).filter((url) => url.startsWith(root)).map((url) => url.slice(root.length));
      assert.deepEqual(ours.sort(), ['bin/node-version.js', 'bin/run.js', 'dist/fast-path.js'], `chat ${args[0]}`);
    }
  });

  test('anything unusual goes to oclif: help, unknown flags, stray arguments', async () => {
    const help = await home.run(['send', '--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /EXAMPLES/);
    const unknown = await home.run(['send', '--profile', 'alice', '--loud', 'x']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /Nonexistent flag: --loud/);
    const stray = await home.run(['daemon', 'status', 'extra']);
    assert.equal(stray.code, 2);
  });
});
