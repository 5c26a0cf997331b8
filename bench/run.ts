// npm run bench: chat measured against the bare transport and the shell tools, side by side, in
// one run on one machine (only ratios from the same run mean anything on a shared machine).
// Options: --size BYTES (suffix K/M/G; default 1G), --quick, --json, --runs N.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, open, readdir, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ControlClient } from '../src/control/client.ts';
import type { ChatEvent } from '../src/control/events.ts';
import { resolveProfilePaths } from '../src/control/paths.ts';
import { ChatHome, CLI, collect, ROOT } from '../test/helpers/chat.ts';

const MiB = 1024 * 1024;

interface Stat { median: number; min: number; max: number; n: number }
interface Results {
  machine: { cpus: number; cpu: string; memoryGiB: number; node: string; platform: string; date: string };
  options: { size: number; quick: boolean; runs: number };
  transfer: {
    sizeBytes: number; chatMiBps: Stat; bareMiBps: Stat; bareSyncedMiBps: Stat; socatMiBps: Stat | null;
    chatVsBare: number; chatVsBareSynced: number; chatVsSocat: number | null;
  };
  memory: { smallBytes: number; largeBytes: number; senderSmallMiB: number; receiverSmallMiB: number; senderLargeMiB: number; receiverLargeMiB: number; growthMiB: number };
  messages: { count: number; p50Ms: number; p99Ms: number; perSecond: number; tcpPingPongP50Ms: number; tcpPingPongP99Ms: number };
  messagesDuringTransfer: { count: number; p50Ms: number; maxMs: number };
  startup: { runs: number; nodeMs: Stat; sendMs: Stat; statusMs: Stat; sendVsNode: number; statusVsNode: number };
  controlRpc: { count: number; p50Ms: number; p99Ms: number };
}

function parseSize(text: string): number {
  const match = /^(\d+(?:\.\d+)?)([KMG]i?B?)?$/i.exec(text.trim());
  if (!match) throw new Error(`invalid --size "${text}": use bytes or a number with K, M or G`);
  const unit = (match[2] ?? '').toUpperCase()[0];
  const factor = unit === 'K' ? 1024 : unit === 'M' ? MiB : unit === 'G' ? 1024 * MiB : 1;
  return Math.round(Number(match[1]) * factor);
}

function stat(values: number[]): Stat {
  const sorted = [...values].sort((a, b) => a - b);
  return { median: percentile(sorted, 50), min: sorted[0]!, max: sorted.at(-1)!, n: sorted.length };
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = (p / 100) * (sorted.length - 1);
  const low = Math.floor(rank);
  const high = Math.ceil(rank);
  return sorted[low]! + (sorted[high]! - sorted[low]!) * (rank - low);
}

const sortedCopy = (values: number[]) => [...values].sort((a, b) => a - b);

async function writeRandomFile(file: string, size: number): Promise<void> {
  const handle = await open(file, 'w');
  try {
    for (let written = 0; written < size; written += 8 * MiB) await handle.write(randomBytes(Math.min(8 * MiB, size - written)));
  } finally {
    await handle.close();
  }
}

function peakRssMiB(pid: number): number {
  const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) / 1024 : Number.NaN;
}

async function sleep(ms: number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, ms));
}

/** Two daemons in a fresh CHAT_HOME, connected; `close()` stops them and removes everything. */
async function startPair(): Promise<{ home: ChatHome; alice: { pid: number }; bob: { pid: number; downloads: string } }> {
  const home = await ChatHome.create();
  const alice = await home.startDaemon('alice');
  const bob = await home.startDaemon('bob');
  const connected = await home.run(['connect', '--profile', 'alice', String(bob.port)]);
  if (connected.code !== 0) throw new Error(`connect failed: ${connected.stderr}`);
  return { home, alice, bob };
}

const controlOf = (home: ChatHome, profile: string) =>
  ControlClient.connect(resolveProfilePaths({ home: home.dir, profile }).socket);

/**
 * Seconds from the transfer request until the sender's daemon reports the receiver verified it
 * (the same call `chat transfer` makes; its start-up is row 5).
 */
async function timedTransfer(home: ChatHome, file: string): Promise<number> {
  const client = await controlOf(home, 'alice');
  try {
    const started = performance.now();
    await client.request('transfer', { path: file }, 0);
    return (performance.now() - started) / 1000;
  } finally {
    client.close();
  }
}

async function clearDirectory(dir: string): Promise<void> {
  for (const name of await readdir(dir)) await rm(path.join(dir, name), { force: true });
}

async function bareTransfer(source: string, destination: string, fsync = false): Promise<number> {
  const args = [path.join(ROOT, 'bench', 'baselines', 'tcp-pipe.ts'), source, destination, ...(fsync ? ['--fsync'] : [])];
  const result = await collect(spawn(process.execPath, args), undefined, 600_000);
  if (result.code !== 0) throw new Error(`bare pipeline failed: ${result.stderr}`);
  await rm(destination, { force: true });
  return Number(result.stdout.trim());
}

function hasSocat(): boolean {
  return spawnSync('socat', ['-V'], { stdio: 'ignore' }).status === 0;
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function socatTransfer(source: string, destination: string): Promise<number> {
  const port = await freePort();
  const listener = spawn('socat', ['-u', `TCP-LISTEN:${port},bind=127.0.0.1,reuseaddr`, `OPEN:${destination},creat,trunc`]);
  const done = collect(listener, undefined, 600_000);
  await sleep(100);
  const started = performance.now();
  const sender = await collect(spawn('socat', ['-u', `FILE:${source}`, `TCP:127.0.0.1:${port}`]), undefined, 600_000);
  const received = await done;
  if (sender.code !== 0 || received.code !== 0) throw new Error(`socat failed: ${sender.stderr}${received.stderr}`);
  const seconds = (performance.now() - started) / 1000;
  await rm(destination, { force: true });
  return seconds;
}

/** Sends messages one after another and times each until the receiving daemon announces it. */
async function messageLatencies(sender: ControlClient, receiver: ControlClient, count: number, spacingMs = 0, keepGoing = () => true): Promise<number[]> {
  const waiting = new Map<string, (at: number) => void>();
  receiver.onNotification('event', (event: ChatEvent) => {
    if (event.type === 'message') waiting.get(event.text)?.(performance.now());
  });
  await receiver.request('subscribe', {});
  const latencies: number[] = [];
  for (let i = 0; i < count && keepGoing(); i++) {
    const text = `bench ${i} ${randomBytes(4).toString('hex')}`;
    const arrived = new Promise<number>((resolve) => waiting.set(text, resolve));
    const started = performance.now();
    await sender.request('send', { text });
    latencies.push((await arrived) - started);
    waiting.delete(text);
    if (spacingMs > 0) await sleep(spacingMs);
  }
  return latencies;
}

async function tcpPingPong(count: number): Promise<number[]> {
  const server = net.createServer((socket) => socket.on('data', (data) => socket.write(data)));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const client = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
  client.setNoDelay(true);
  await new Promise((resolve) => client.once('connect', resolve));
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    const echoed = new Promise((resolve) => client.once('data', resolve));
    client.write('ping');
    await echoed;
    times.push(performance.now() - started);
  }
  client.destroy();
  server.close();
  return times;
}

/** Wall time of whole processes, A and B alternating so drift hits both alike. */
function wallTimes(commands: string[][], runs: number, env: NodeJS.ProcessEnv): number[][] {
  const times = commands.map(() => [] as number[]);
  for (let run = 0; run < runs + 1; run++) {
    commands.forEach((command, index) => {
      const started = performance.now();
      const result = spawnSync(command[0]!, command.slice(1), { env, stdio: 'ignore' });
      if (result.status !== 0) throw new Error(`${command.join(' ')} exited ${result.status}`);
      if (run > 0) times[index]!.push(performance.now() - started); // run 0 warms the caches
    });
  }
  return times;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      size: { type: 'string' },
      quick: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      runs: { type: 'string' },
    },
  });
  const quick = values.quick === true;
  const size = parseSize(values.size ?? (quick ? '16M' : '1G'));
  const runs = values.runs ? Number(values.runs) : quick ? 2 : 3;
  const smallSize = quick ? 4 * MiB : 100 * MiB;
  const messageCount = quick ? 100 : 1000;
  const startupRuns = quick ? 5 : 20;
  const rpcCount = quick ? 200 : 1000;
  const log = (line: string) => { if (!values.json) process.stderr.write(`${line}\n`); };

  const work = path.join(os.tmpdir(), `chat-bench-${process.pid}`);
  await mkdir(work, { recursive: true });
  const homes: ChatHome[] = [];
  try {
    const source = path.join(work, 'payload.bin');
    const smallSource = path.join(work, 'small.bin');
    log(`writing ${(size / MiB).toFixed(0)} MiB of random data ...`);
    await writeRandomFile(source, size);
    await writeRandomFile(smallSource, smallSize);

    // 1 + 4: throughput, and messages while a transfer runs.
    log('row 1: transfer throughput (chat, bare Node TCP pipe, socat) ...');
    const pair = await startPair();
    homes.push(pair.home);
    const chatSeconds: number[] = [];
    const bareSeconds: number[] = [];
    const bareSyncedSeconds: number[] = [];
    const socatSeconds: number[] = [];
    const socat = hasSocat();
    for (let run = 0; run < runs; run++) {
      chatSeconds.push(await timedTransfer(pair.home, source));
      await clearDirectory(pair.bob.downloads);
      bareSeconds.push(await bareTransfer(source, path.join(work, 'bare.out')));
      bareSyncedSeconds.push(await bareTransfer(source, path.join(work, 'bare.out'), true));
      if (socat) socatSeconds.push(await socatTransfer(source, path.join(work, 'socat.out')));
    }
    const mibps = (seconds: number[]) => stat(seconds.map((s) => size / MiB / s));
    const chatMiBps = mibps(chatSeconds);
    const bareMiBps = mibps(bareSeconds);
    const bareSyncedMiBps = mibps(bareSyncedSeconds);
    const socatMiBps = socat ? mibps(socatSeconds) : null;

    log('row 4: messages during a transfer ...');
    const aliceControl = await controlOf(pair.home, 'alice');
    const bobControl = await controlOf(pair.home, 'bob');
    let transferRunning = true;
    const transfer = timedTransfer(pair.home, source).finally(() => { transferRunning = false; });
    await sleep(2);
    const during = await messageLatencies(aliceControl, bobControl, 20, quick ? 1 : 20, () => transferRunning);
    await transfer;
    await clearDirectory(pair.bob.downloads);

    log('row 3: message latency ...');
    const latencies = await messageLatencies(aliceControl, bobControl, messageCount);
    const ping = sortedCopy(await tcpPingPong(messageCount));
    const latencySorted = sortedCopy(latencies);

    log('row 6: control RPC round trip ...');
    const rpc: number[] = [];
    for (let i = 0; i < rpcCount; i++) {
      const started = performance.now();
      await aliceControl.request('status', {});
      rpc.push(performance.now() - started);
    }
    aliceControl.close();
    bobControl.close();

    log('row 5: CLI start-up ...');
    const env = pair.home.env();
    const [nodeMs, sendMs, statusMs] = wallTimes(
      [
        [process.execPath, '-e', '0'],
        [process.execPath, CLI, 'send', '--profile', 'alice', 'x'],
        [process.execPath, CLI, 'daemon', 'status', '--profile', 'alice'],
      ],
      startupRuns,
      env,
    ).map(stat) as [Stat, Stat, Stat];

    // 2: memory, with fresh daemons per size (VmHWM is a lifetime peak).
    log('row 2: daemon memory ...');
    const memory = async (file: string) => {
      const fresh = await startPair();
      homes.push(fresh.home);
      await timedTransfer(fresh.home, file);
      const result = { sender: peakRssMiB(fresh.alice.pid), receiver: peakRssMiB(fresh.bob.pid) };
      await fresh.home.cleanup();
      return result;
    };
    const small = await memory(smallSource);
    const large = await memory(source);

    const results: Results = {
      machine: {
        cpus: os.availableParallelism(),
        cpu: os.cpus()[0]?.model ?? 'unknown',
        memoryGiB: Math.round(os.totalmem() / 1024 ** 3),
        node: process.version,
        platform: `${os.platform()} ${os.release()}`,
        date: new Date().toISOString(),
      },
      options: { size, quick, runs },
      transfer: {
        sizeBytes: size,
        chatMiBps,
        bareMiBps,
        bareSyncedMiBps,
        socatMiBps,
        chatVsBare: chatMiBps.median / bareMiBps.median,
        chatVsBareSynced: chatMiBps.median / bareSyncedMiBps.median,
        chatVsSocat: socatMiBps ? chatMiBps.median / socatMiBps.median : null,
      },
      memory: {
        smallBytes: smallSize,
        largeBytes: size,
        senderSmallMiB: small.sender,
        receiverSmallMiB: small.receiver,
        senderLargeMiB: large.sender,
        receiverLargeMiB: large.receiver,
        growthMiB: Math.max(large.sender - small.sender, large.receiver - small.receiver),
      },
      messages: {
        count: latencies.length,
        p50Ms: percentile(latencySorted, 50),
        p99Ms: percentile(latencySorted, 99),
        perSecond: latencies.length / (latencies.reduce((a, b) => a + b, 0) / 1000),
        tcpPingPongP50Ms: percentile(ping, 50),
        tcpPingPongP99Ms: percentile(ping, 99),
      },
      messagesDuringTransfer: {
        count: during.length,
        p50Ms: percentile(sortedCopy(during), 50),
        maxMs: Math.max(...during),
      },
      startup: {
        runs: startupRuns,
        nodeMs,
        sendMs,
        statusMs,
        sendVsNode: sendMs.median / nodeMs.median,
        statusVsNode: statusMs.median / nodeMs.median,
      },
      controlRpc: { count: rpc.length, p50Ms: percentile(sortedCopy(rpc), 50), p99Ms: percentile(sortedCopy(rpc), 99) },
    };
    await writeFile(path.join(ROOT, 'bench', 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
    if (values.json) process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
    else process.stdout.write(`${table(results)}\n`);
  } finally {
    for (const home of homes) await home.cleanup().catch(() => undefined);
    await rm(work, { recursive: true, force: true });
  }
}

function table(r: Results): string {
  const f = (n: number, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');
  const s = (x: Stat, digits = 1) => `${f(x.median, digits)} (${f(x.min, digits)}–${f(x.max, digits)})`;
  const rows: Array<[string, string, string, string]> = [
    ['1 transfer MiB/s', `chat ${s(r.transfer.chatMiBps, 0)}`, `bare TCP ${s(r.transfer.bareMiBps, 0)}; bare+fsync ${s(r.transfer.bareSyncedMiBps, 0)}; socat ${r.transfer.socatMiBps ? s(r.transfer.socatMiBps, 0) : 'n/a (not installed)'}`,
      `chat/bare ${f(r.transfer.chatVsBare, 2)}; chat/bare+fsync ${f(r.transfer.chatVsBareSynced, 2)}; chat/socat ${r.transfer.chatVsSocat === null ? 'n/a' : f(r.transfer.chatVsSocat, 2)}`],
    ['2 peak RSS MiB', `send ${f(r.memory.senderSmallMiB, 0)} / recv ${f(r.memory.receiverSmallMiB, 0)} at ${f(r.memory.smallBytes / MiB, 0)} MiB`,
      `send ${f(r.memory.senderLargeMiB, 0)} / recv ${f(r.memory.receiverLargeMiB, 0)} at ${f(r.memory.largeBytes / MiB, 0)} MiB`, `growth ${f(r.memory.growthMiB, 0)} MiB`],
    ['3 message latency ms', `p50 ${f(r.messages.p50Ms, 3)} p99 ${f(r.messages.p99Ms, 3)}; ${f(r.messages.perSecond, 0)}/s`,
      `TCP ping-pong p50 ${f(r.messages.tcpPingPongP50Ms, 3)} p99 ${f(r.messages.tcpPingPongP99Ms, 3)}`, `p50 ratio ${f(r.messages.p50Ms / r.messages.tcpPingPongP50Ms, 1)}`],
    ['4 message during transfer', `p50 ${f(r.messagesDuringTransfer.p50Ms, 2)} ms, max ${f(r.messagesDuringTransfer.maxMs, 2)} ms`, `${r.messagesDuringTransfer.count} messages`, ''],
    ['5 CLI start-up ms', `send ${s(r.startup.sendMs, 0)}; status ${s(r.startup.statusMs, 0)}`, `node -e 0 ${s(r.startup.nodeMs, 0)}`,
      `send/node ${f(r.startup.sendVsNode, 2)}; status/node ${f(r.startup.statusVsNode, 2)}`],
    ['6 control RPC ms', `p50 ${f(r.controlRpc.p50Ms, 3)} p99 ${f(r.controlRpc.p99Ms, 3)}`, `${r.controlRpc.count} calls`, ''],
  ];
  const widths = [0, 1, 2, 3].map((i) => Math.max(...rows.map((row) => row[i]!.length), ['row', 'chat', 'baseline', 'ratio'][i]!.length));
  const line = (cells: string[]) => cells.map((cell, i) => cell.padEnd(widths[i]!)).join(' | ');
  const m = r.machine;
  return [
    `${m.cpus} CPUs (${m.cpu}), ${m.memoryGiB} GiB, Node ${m.node}, ${m.platform}, ${m.date}; transfers of ${(r.options.size / MiB).toFixed(0)} MiB, ${r.options.runs} runs; medians (min–max)`,
    line(['row', 'chat', 'baseline', 'ratio']),
    line(widths.map((w) => '-'.repeat(w))),
    ...rows.map(line),
  ].join('\n');
}

await main();
