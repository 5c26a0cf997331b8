// ChatDaemon.stop in-process: whatever step of stopping fails, the onStopped listeners run (chatd's
// exits the process), and the failure is logged instead of leaving a daemon up half stopped.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { resolveProfilePaths } from '../../src/control/paths.ts';
import { ChatDaemon } from '../../src/daemon/daemon.ts';
import type { Logger } from '../../src/daemon/logger.ts';
import { prepareOwnedDirectory } from '../../src/files/owner-only.ts';
import { PinnedDirectory } from '../../src/files/pinned-directory.ts';
import { openHistory } from '../../src/history/store.ts';
import { loadOrCreateIdentity } from '../../src/identity/identity.ts';
import { KnownPeers } from '../../src/identity/known-peers.ts';

const home = mkdtempSync(path.join(os.tmpdir(), 'chat-stop-'));
after(() => rmSync(home, { recursive: true, force: true }));

function memoryLogger(lines: string[]): Logger {
  return {
    info: (line) => lines.push(`info ${line}`),
    warn: (line) => lines.push(`warn ${line}`),
    error: (line) => lines.push(`error ${line}`),
    flush: () => undefined,
  };
}

test('a history that fails to close: stop still calls onStopped, logs why, and has closed the ports', { timeout: 30_000 }, async () => {
  const paths = resolveProfilePaths({ home, profile: 'stopper' });
  prepareOwnedDirectory(paths.home, 'CHAT_HOME', { ownerOnly: false });
  prepareOwnedDirectory(path.dirname(paths.dir), 'the profiles directory', { ownerOnly: false });
  prepareOwnedDirectory(paths.dir, 'the profile directory', { ownerOnly: true });
  prepareOwnedDirectory(paths.defaultDownloads, 'the downloads directory', { ownerOnly: false });
  const history = openHistory(paths.historyFile);
  const closeHistory = history.close.bind(history);
  history.close = () => {
    closeHistory();
    throw new Error('disk went away');
  };
  const lines: string[] = [];
  const daemon = new ChatDaemon(
    {
      paths, name: 'stopper', host: '127.0.0.1', port: 0, version: 'test', maxFileSize: 1024,
      downloads: PinnedDirectory.open(paths.defaultDownloads, 'the downloads directory'),
      identity: await loadOrCreateIdentity(paths.identityDir),
      knownPeers: KnownPeers.open(paths.knownPeersFile),
    },
    history,
    memoryLogger(lines),
  );
  await daemon.start();
  const port = daemon.port;
  let listenerCalls = 0;
  const stopped = new Promise<void>((resolve) => daemon.onStopped(() => {
    listenerCalls++;
    resolve();
  }));

  await daemon.stop('test');
  await stopped;
  assert.equal(listenerCalls, 1);
  assert.ok(lines.includes('error could not stop cleanly: disk went away'), lines.join('\n'));
  assert.ok(!lines.includes('info stopped'), 'a stop that failed does not say "stopped"');
  // The steps before the failing one ran: the peer port is free again (the control socket too).
  await new Promise<void>((resolve, reject) => {
    const server = net.createServer().once('error', reject);
    server.listen({ host: '127.0.0.1', port, exclusive: true }, () => server.close(() => resolve()));
  });
  // A second stop is the same stop: it does not run the listeners again.
  await daemon.stop('again');
  assert.equal(listenerCalls, 1);
});
