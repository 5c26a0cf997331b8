// `chat console`, the original interactive program, driven through pipes as a script would.
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import { ChatHome, historyOf, isAlive } from '../helpers/chat.ts';

/** Everything a child prints, kept from the start, so no line is missed between two waits. */
function transcript(child: ReturnType<ChatHome['spawn']>): (pattern: RegExp, timeoutMs?: number) => Promise<string> {
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => { output += chunk.toString('utf8'); });
  return async (pattern, timeoutMs = 20_000) => {
    const deadline = Date.now() + timeoutMs;
    while (!pattern.test(output)) {
      if (Date.now() > deadline) throw new Error(`console never printed ${pattern}; got:\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return output;
  };
}

describe('chat console', { timeout: 120_000 }, () => {
  const home = ChatHome.forSuite();
  let bob: { port: number; pid: number; downloads: string };
  let alice: { pid: number };

  before(async () => {
    alice = await home.startDaemon('alice');
    bob = await home.startDaemon('bob');
  });

  test('piped input: asks for the port first, then sends lines and files in order', async () => {
    const file = path.join(home.dir, 'notes.txt');
    await writeFile(file, 'console file\n');
    const input = [String(bob.port), 'hello from the console', 'transfer notes.txt', 'second line', '/quit', 'never sent', ''].join('\n');
    const result = await home.run(['console', '--profile', 'alice'], { input, cwd: home.dir });
    assert.equal(result.code, 0, result.stderr + result.stdout);
    assert.match(result.stdout, /connected to bob/);
    assert.match(result.stdout, /sent notes\.txt/);

    const events = await historyOf(home, 'bob');
    const texts = events.filter((event) => event.type === 'message').map((event) => event.text);
    assert.deepEqual(texts, ['hello from the console', 'second line']);
    const files = events.filter((event) => event.type === 'file');
    assert.equal(files.length, 1);
    assert.equal(await readFile(path.join(bob.downloads, 'notes.txt'), 'utf8'), 'console file\n');
    assert.ok(isAlive(alice.pid), '/quit leaves the daemon running');
  });

  test('prints what arrives while it runs; /quit leaves', async () => {
    const consoleProcess = home.spawn(['console', '--profile', 'bob']);
    const waitForText = transcript(consoleProcess);
    const done = new Promise<number | null>((resolve) => consoleProcess.once('exit', (code) => resolve(code)));
    await waitForText(/connected to alice/);
    const marker = `incoming ${Date.now()}`;
    assert.equal((await home.run(['send', '--profile', 'alice', marker])).code, 0);
    await waitForText(new RegExp(`alice: ${marker}`));
    consoleProcess.stdin?.end('reply from console\n/quit\n');
    assert.equal(await done, 0);
    const aliceEvents = await historyOf(home, 'alice', 5);
    assert.ok(aliceEvents.some((event) => event.text === 'reply from console' && event.direction === 'in'));
    assert.ok(isAlive(bob.pid));
  });

  test('a failed line is reported and the console goes on; the exit code says something failed', async () => {
    const input = ['transfer does-not-exist.bin', 'still talking', ''].join('\n');
    const result = await home.run(['console', '--profile', 'alice'], { input, cwd: home.dir });
    assert.equal(result.code, 1);
    assert.match(result.stdout, /does-not-exist\.bin: no such file/);
    const events = await historyOf(home, 'bob', 2);
    assert.ok(events.some((event) => event.text === 'still talking'));
  });
});
