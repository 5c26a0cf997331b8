// `chat console`, the original interactive program, driven through pipes as a script would, and
// on a pseudo-terminal (util-linux `script`) where the prompt and the progress line are the point.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import { ChatHome, CLI, historyOf, isAlive, waitForLine } from '../helpers/chat.ts';
import { FaultProxy } from '../helpers/fault-proxy.ts';
import { writeRandomFile } from '../helpers/random-data.ts';

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

/** Big enough that sending it takes far longer than a message does (hundreds of ms here). */
const BIG_FILE_BYTES = 64 * 1024 * 1024;
const hasScript = spawnSync('script', ['--version'], { stdio: 'ignore' }).status === 0;

interface HistoryEvent { seq: number; type: string; text?: string; name?: string; direction?: string }

/** Follows a profile's history (`chat tail --json`) from its newest event on; `until` resolves at the first later event that matches. */
async function followHistory(home: ChatHome, profile: string): Promise<{ until(match: (event: HistoryEvent) => boolean): Promise<HistoryEvent>; stop(): void }> {
  // --since the newest seq, not -n 0: nothing that happens while the tail starts is missed.
  const newest = ((await historyOf(home, profile, 1))[0]?.seq ?? 0) as number;
  const tail = home.spawn(['tail', '--profile', profile, '--json', '--since', String(newest)]);
  return {
    until: (match) => waitForLine<HistoryEvent>(tail, match, 30_000),
    stop: () => tail.kill(),
  };
}

describe('chat console', { timeout: 120_000 }, () => {
  const home = ChatHome.forSuite();
  let bob: { port: number; pid: number; downloads: string };
  let alice: { pid: number; port: number };

  before(async () => {
    alice = await home.startDaemon('alice');
    bob = await home.startDaemon('bob');
  });

  test('the first question is the port: another answer is said not to be sent', async () => {
    const result = await home.run(['console', '--profile', 'alice'], { input: 'hello?\n/quit\n' });
    assert.equal(result.code, 0, result.stdout);
    assert.match(result.stdout, /^chat: .*"hello\?"/m);
    assert.match(result.stdout, /^\* not sent: that was the answer to the port question/m);
  });

  test('a line typed before any peer was ever connected is kept and goes after /connect; /disconnect', async () => {
    const consoleProcess = home.spawn(['console', '--profile', 'alice']);
    const screen = transcript(consoleProcess);
    const done = once(consoleProcess, 'exit');
    const bobHistory = await followHistory(home, 'bob');
    try {
      await screen(/\* not connected\./);
      // Enter skips the first question; the next line is a message, not a port.
      consoleProcess.stdin!.write('\nkept before any peer\n');
      await screen(/\* kept: no peer was ever connected/);
      consoleProcess.stdin!.write(`/connect ${bob.port}\n`);
      const arrived = await bobHistory.until((event) => event.type === 'message');
      assert.equal(arrived.text, 'kept before any peer');
      consoleProcess.stdin!.end('/disconnect\n/quit\n');
      const [code] = await done;
      assert.equal(code, 0, await screen(/$/));
      assert.match(await screen(/$/), /\* bob disconnected \(disconnected by user\)/);
    } finally {
      bobHistory.stop();
    }
    const status = JSON.parse((await home.run(['daemon', 'status', '--profile', 'alice', '--json'])).stdout);
    assert.equal(status.connection, 'disconnected', '/disconnect closed the connection');
  });

  test('a peer that dials in while the port is asked answers the question: the next line is a message', async () => {
    const consoleProcess = home.spawn(['console', '--profile', 'bob']);
    const screen = transcript(consoleProcess);
    const done = once(consoleProcess, 'exit');
    const aliceHistory = await followHistory(home, 'alice');
    try {
      await screen(/\* not connected\./);
      assert.equal((await home.run(['connect', '--profile', 'alice', String(bob.port)])).code, 0);
      await screen(/\* connected to alice/);
      consoleProcess.stdin!.write('not a port\n');
      const arrived = await aliceHistory.until((event) => event.type === 'message');
      assert.equal(arrived.text, 'not a port');
      // alice dialled in from an ephemeral port: what is named is where she listens.
      consoleProcess.stdin!.write(`/connect ${alice.port}\n`);
      await screen(new RegExp(`\\* already connected to alice \\(127\\.0\\.0\\.1:${alice.port}\\)`));
      consoleProcess.stdin!.end('/disconnect\n/quit\n');
      assert.deepEqual(await done, [0, null]);
    } finally {
      aliceHistory.stop();
    }
  });

  test('piped input: asks for the port first, then sends lines and files in order', async () => {
    const file = path.join(home.dir, 'notes.txt');
    await writeFile(file, 'console file\n');
    const input = [String(bob.port), 'hello from the console', 'transfer notes.txt', 'second line', '/quit', 'never sent', ''].join('\n');
    const before = ((await historyOf(home, 'bob', 1))[0]?.seq ?? 0) as number;
    const result = await home.run(['console', '--profile', 'alice'], { input, cwd: home.dir });
    assert.equal(result.code, 0, result.stderr + result.stdout);
    assert.match(result.stdout, /connected to bob/);
    assert.match(result.stdout, /sent notes\.txt/);

    const events = (await historyOf(home, 'bob')).filter((event) => (event.seq as number) > before);
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

  test('after the peer disconnects, the next line is not taken as a port: it waits in the outbox and arrives after /connect', async () => {
    const consoleProcess = home.spawn(['console', '--profile', 'alice']);
    const screen = transcript(consoleProcess);
    const done = once(consoleProcess, 'exit');
    await screen(/\* connected to bob\./);
    assert.equal((await home.run(['disconnect', '--profile', 'bob'])).code, 0);
    await screen(/\* bob disconnected/);
    consoleProcess.stdin!.write('are you there?\n');
    await screen(/\* queued for bob, not delivered yet/);
    consoleProcess.stdin!.write(`/connect ${bob.port}\n`);
    await screen(/\* delivered to bob \(message /);
    consoleProcess.stdin!.end('/quit\n');
    const [code] = await done;
    const output = await screen(/$/);
    assert.equal(code, 0, output);
    assert.doesNotMatch(output, /invalid port/);
    const texts = (await historyOf(home, 'bob', 5)).filter((event) => event.type === 'message').map((event) => event.text);
    assert.deepEqual(texts.slice(-1), ['are you there?']);
  });

  test('a line typed during a console transfer arrives before the transfer ends', async () => {
    await writeRandomFile(path.join(home.dir, 'big.bin'), BIG_FILE_BYTES);
    const input = ['transfer big.bin', 'while the file goes', ''].join('\n');
    const result = await home.run(['console', '--profile', 'alice'], { input, cwd: home.dir });
    assert.equal(result.code, 0, result.stderr + result.stdout);
    const events = await historyOf(home, 'bob', 10);
    const message = events.find((event) => event.type === 'message' && event.text === 'while the file goes');
    const file = events.find((event) => event.type === 'file' && event.name === 'big.bin');
    assert.ok(message && file, JSON.stringify(events));
    assert.ok((message.seq as number) < (file.seq as number), 'bob had the line before the whole file');
    // The end of the input waits for the transfer, so a script still learns how it ended.
    assert.match(result.stdout, /\* waiting for big\.bin to be sent[^]*\* sent big\.bin \(64\.0 MiB/);
  });

  test('/help; an unknown /word and a bare transfer are refused, not sent; //TEXT; ~ is the home directory; /quit exits 0 after them', async () => {
    await writeFile(path.join(home.dir, 'from-home.txt'), 'found through ~\n');
    const input = ['/help', '/nosuch thing', 'transfer', '//slash first', 'transfer ~/from-home.txt', 'transfer no-such-file.bin', '/quit', ''].join('\n');
    const before = ((await historyOf(home, 'bob', 1))[0]?.seq ?? 0) as number;
    const result = await home.run(['console', '--profile', 'alice'], { input, cwd: path.join(home.dir, 'profiles'), env: { HOME: home.dir } });
    assert.equal(result.code, 0, result.stdout);
    assert.match(result.stdout, /\/connect PORT +connect to a peer's daemon/);
    assert.match(result.stdout, /^chat: unknown command \/nosuch, not sent \(\/help lists the commands/m);
    assert.match(result.stdout, /^chat: usage: transfer FILE/m);
    assert.match(result.stdout, /\* sent from-home\.txt/);
    assert.match(result.stdout, /no-such-file\.bin: no such file/);
    const events = (await historyOf(home, 'bob', 10)).filter((event) => (event.seq as number) > before);
    assert.deepEqual(events.filter((event) => event.type === 'message').map((event) => event.text), ['/slash first']);
    assert.equal(await readFile(path.join(bob.downloads, 'from-home.txt'), 'utf8'), 'found through ~\n');
  });

  test('on a terminal: the first question, then the prompt shows the link; a progress line stays above it while typing goes on', { skip: hasScript ? false : 'util-linux script is not installed' }, async () => {
    assert.equal((await home.run(['disconnect', '--profile', 'alice'])).code, 0);
    // Through a proxy that can hold the transfer back, so that it is surely still running when the line is typed.
    const proxy = await FaultProxy.start(bob.port);
    // `script` gives the console a pseudo-terminal; its input is this pipe, its output the terminal's.
    const command = `stty cols 120 rows 40; exec '${process.execPath}' '${CLI}' console --profile alice`;
    const child: ChildProcess = spawn('script', ['-q', '-e', '-c', command, '/dev/null'], { cwd: home.dir, env: home.env() });
    let raw = '';
    child.stdout!.on('data', (chunk: Buffer) => { raw += chunk.toString('utf8'); });
    const shown = () => raw.replace(/\x1b\[[0-9;]*[A-Za-z]/g, '').replaceAll('\r', '');
    const waitFor = async (pattern: RegExp) => {
      const deadline = Date.now() + 20_000;
      while (!pattern.test(shown())) {
        if (Date.now() > deadline) throw new Error(`the terminal never showed ${pattern}; got:\n${shown()}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    };
    const done = once(child, 'exit');
    const bobHistory = await followHistory(home, 'bob');
    try {
      await waitFor(/peer port \(or host:port; Enter to skip\): $/);
      child.stdin!.write(`${proxy.port}\r`);
      await waitFor(/bob > $/);
      const heldBackAt = proxy.bytes.up + proxy.bytes.down + 4 * 1024 * 1024;
      proxy.silenceAfter(4 * 1024 * 1024);
      child.stdin!.write('transfer big.bin\r');
      await waitFor(/ big\.bin \[#*-*\] \d+% /);
      for (const deadline = Date.now() + 20_000; proxy.bytes.up + proxy.bytes.down < heldBackAt;) {
        if (Date.now() > deadline) throw new Error('the transfer never reached the partition');
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      child.stdin!.write('typed while sending\r');
      // After Enter the console goes up two rows (the progress line and the line typed), clears
      // them, and writes the typed line (now part of the transcript) and the progress line under it.
      const typedLineGoesUp = /\x1b\[2A\r\x1b\[Jbob > typed while sending\r\n {2}big\.bin \[#*-*\] \d+% /;
      const deadline = Date.now() + 20_000;
      while (!typedLineGoesUp.test(raw)) {
        if (Date.now() > deadline) throw new Error(`the typed line did not go up above the progress line:\n${JSON.stringify(raw)}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      proxy.heal();
      const arrived = await bobHistory.until((event) => event.type === 'message');
      assert.equal(arrived.text, 'typed while sending');
      await waitFor(/\* sent big\.bin/);
      assert.equal((await home.run(['disconnect', '--profile', 'bob'])).code, 0);
      await waitFor(/\(not connected\) > $/);
      child.stdin!.write('/quit\r');
      const [code] = await done;
      assert.equal(code, 0, shown());
    } finally {
      bobHistory.stop();
      child.kill('SIGKILL');
      await proxy.close();
    }
    assert.ok((await readdir(bob.downloads)).includes('big (1).bin'), 'the second big.bin arrived');
  });
});
