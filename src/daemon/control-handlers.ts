/**
 * The control method table: each method's handler, with its params already checked by the server
 * (src/control/params.ts), turning the daemon's state into the results of src/control/protocol.ts.
 */
import { open, stat } from 'node:fs/promises';
import path from 'node:path';
import type { ChatEvent } from '../history/events.ts';
import type { HistoryStore } from '../history/store.ts';
import {
  DEFAULT_HISTORY_PAGE,
  DEFAULT_INVITE_MS,
  ErrorCode,
  MAX_HISTORY_PAGE,
  MAX_HISTORY_RESPONSE_BYTES,
  type AddPeerParams,
  type AddPeerResult,
  type DisconnectResult,
  type ForgetPeerParams,
  type ForgetPeerResult,
  type HistoryParams,
  type HistoryResult,
  type InviteParams,
  type InviteResult,
  type StatusResult,
  type TransferParams,
  type TransferResult,
  type TransferWait,
  type UnfinishedTransferResult,
} from '../control/protocol.ts';
import { ControlError, type ControlConnection, type ControlHandlers } from '../control/server.ts';
import { formatFingerprint } from '../identity/fingerprint-notation.ts';
import type { PinnedDirectory } from '../files/pinned-directory.ts';
import type { KnownPeers } from '../identity/known-peers.ts';
import { quote } from '../peer/log-text.ts';
import type { PeerSession } from '../peer/session.ts';
import { reasonOf, USER_DISCONNECT_REASON } from './close-reason.ts';
import { handleConnect, type ConnectContext } from './connect-handler.ts';
import type { EventFeed } from './event-feed.ts';
import type { Reconnector } from './reconnect.ts';
import type { Outbox } from './outbox.ts';
import { dropFromOutbox, handleSend, listOutbox } from './outbox-handlers.ts';
import type { ResumableTransfers } from './resumable-transfers.ts';
import { cancelTransfer, listTransfers, TransferFinishingError, type TransferListContext } from './transfer-list.ts';

/** How often a transfer reports progress to the command that started it. */
const PROGRESS_INTERVAL_MS = 100;

/** What the handlers work on: the daemon's parts, and its own `status` and `stop`. */
export interface ControlContext extends ConnectContext {
  /** This daemon's name and key. */
  name: string;
  fingerprint: string;
  knownPeers: KnownPeers;
  history: HistoryStore;
  feed: EventFeed;
  reconnector: Reconnector;
  outbox: Outbox;
  transfers: ResumableTransfers;
  downloads: PinnedDirectory;
  /** Incoming transfers kept until there is room, with the reason. */
  waitingForRoom: ReadonlyMap<string, string>;
  status(): StatusResult;
  /** Where a peer can dial this daemon, as `status` lists them. */
  addresses(): string[];
  stop(reason: string): void;
}

export function controlHandlers(context: ControlContext): ControlHandlers {
  return {
    status: () => context.status(),
    stop: () => {
      // Answer first, then stop: the caller waits for the process to exit.
      setImmediate(() => context.stop('stop requested over the control socket'));
      return { stopping: true as const };
    },
    connect: (params) => context.reconnector.userConnect(params, () => handleConnect(context, params)),
    disconnect: () => disconnect(context),
    send: (params) => handleSend(context.outbox, params),
    transfer: (params, connection) => transfer(context, params, connection),
    history: (params) => historyPage(context.history, params),
    subscribe: (_params, connection) => {
      context.feed.subscribe(connection);
      return { subscribed: true as const };
    },
    identity: () => ({ name: context.name, fingerprint: context.fingerprint }),
    peers: () => ({ peers: context.knownPeers.list() }),
    'peers.forget': (params) => forgetPeer(context, params),
    'peers.add': (params) => addPeer(context, params),
    invite: (params) => invite(context, params),
    'invite.cancel': () => ({ cancelled: context.gatekeeper.cancelInvite() }),
    outbox: () => listOutbox(context.outbox),
    'outbox.drop': (params) => dropFromOutbox(context.outbox, params),
    transfers: async () => ({ transfers: await listTransfers(transferListOf(context)) }),
    'transfers.cancel': async ({ id }) => {
      const reason = `cancelled by ${context.name} (chat transfers cancel)`;
      const cancelled = await cancelTransfer(transferListOf(context), id, reason).catch((error: unknown) => {
        throw error instanceof TransferFinishingError ? new ControlError(ErrorCode.unknownTransfer, error.message) : error;
      });
      if (!cancelled) throw new ControlError(ErrorCode.unknownTransfer, `no unfinished transfer ${id} (see chat transfers)`);
      context.log.info(`cancelled ${cancelled.direction === 'out' ? 'outgoing' : 'incoming'} transfer ${id} of ${quote(cancelled.name)}`);
      const other = cancelled.peer || cancelled.peerFingerprint.slice(0, 16);
      context.feed.recordSafely({
        type: 'transfer', state: 'cancelled', direction: cancelled.direction, id, time: new Date().toISOString(),
        from: cancelled.direction === 'out' ? context.name : other, to: cancelled.direction === 'out' ? other : context.name,
        name: cancelled.name, size: cancelled.size, reason,
      });
      return { cancelled };
    },
  };
}

/** Closes the active connection, and ends the redials: after `chat disconnect` nobody redials. */
function disconnect({ slot, reconnector }: ControlContext): DisconnectResult {
  const reconnectStopped = reconnector.userDisconnect() ?? null;
  const session = slot.session;
  if (!session || session.isClosed) return { disconnected: false, peer: null, reconnectStopped };
  const name = session.peer!.name;
  session.close('disconnected', USER_DISCONNECT_REASON);
  return { disconnected: true, peer: name, reconnectStopped };
}

function transferListOf(context: ControlContext): TransferListContext {
  return {
    transfers: context.transfers,
    downloads: context.downloads,
    waitingForRoom: context.waitingForRoom,
    knownPeers: context.knownPeers,
    session: () => (context.slot.session && !context.slot.session.isClosed ? context.slot.session : undefined),
  };
}

function activeSession({ slot }: ControlContext): PeerSession {
  const session = slot.session;
  if (!session || session.isClosed) {
    throw new ControlError(ErrorCode.notConnected, 'not connected to a peer; run "chat connect PORT" first');
  }
  return session;
}

/**
 * Records and sends a file; answers once the receiver holds it verified (`complete`), or
 * `unfinished` once the receiver has no room for it or `waitMs` has passed: the daemon goes on.
 */
async function transfer(
  context: ControlContext,
  { path: filePath, progress, waitMs }: TransferParams,
  connection: ControlConnection,
): Promise<TransferResult | UnfinishedTransferResult> {
  const { log } = context;
  const size = await checkReadableFile(filePath);
  const session = activeSession(context);
  const peerName = session.peer!.name;
  const name = path.basename(filePath);
  let lastReport = 0;
  const report = (bytes: number, id: string, waiting?: string) => {
    const now = Date.now();
    if (progress !== true || connection.closed || (!waiting && now - lastReport < PROGRESS_INTERVAL_MS && bytes < size)) return;
    lastReport = now;
    connection.notify('transfer.progress', waiting ? { id, bytes, size, waiting } : { id, bytes, size });
  };
  const { mtimeMs } = await stat(filePath);
  log.info(`sending ${filePath} (${size} bytes) to ${quote(peerName)}`);
  // The daemon logs and records the failure itself (ResumableTransfers), whoever waits for it.
  const failed = (error: unknown) => {
    return new ControlError(ErrorCode.transferFailed, `transfer of ${filePath} failed: ${reasonOf(error)}`);
  };
  return new Promise((resolve, reject) => {
    let answered = false;
    let timer: NodeJS.Timeout | undefined;
    const answer = (settle: () => void) => {
      if (answered) return;
      answered = true;
      clearTimeout(timer);
      settle();
    };
    let id = '';
    const unfinished = (waiting: TransferWait, reason: string) => answer(() => resolve({
      id, name, size, to: peerName, path: filePath, state: 'unfinished', bytes: context.transfers.bytesSent(id), waiting, reason,
    }));
    let sending;
    try {
      sending = context.transfers.send({ path: path.resolve(filePath), name, size, mtimeMs }, session, {
        progress: report,
        waitingForRoom: (reason) => unfinished('room', reason),
        waitingForLink: (reason) => unfinished('link', reason),
      });
    } catch (error) {
      reject(failed(error));
      return;
    }
    id = sending.id;
    // The record is on disk: from here on, whatever this call answers, the daemon goes on with it.
    if (waitMs !== undefined) timer = setTimeout(() => unfinished('time', `not finished within ${formatSeconds(waitMs)}`), waitMs);
    sending.done.then(
      (sent) => answer(() => resolve({ id: sent.id, name, size: sent.size, sha256: sent.sha256, to: peerName, path: filePath, state: 'complete' })),
      (error: unknown) => {
        const error_ = failed(error);
        answer(() => reject(error_));
      },
    );
  });
}

/** `5 s`, `0.5 s`. */
function formatSeconds(ms: number): string {
  return `${ms / 1000} s`;
}

function historyPage(history: HistoryStore, { limit = DEFAULT_HISTORY_PAGE, after, before }: HistoryParams): HistoryResult {
  const page = Math.min(limit, MAX_HISTORY_PAGE);
  if (after !== undefined) return capPage(history.after(after, page), 'oldest');
  const events = before === undefined ? history.latest(page) : history.before(before, page);
  return capPage(events, 'newest');
}

/** Keeps the page under MAX_HISTORY_RESPONSE_BYTES, dropping from the far end; never empties it. */
function capPage(events: ChatEvent[], keep: 'oldest' | 'newest'): HistoryResult {
  const ordered = keep === 'oldest' ? events : [...events].reverse();
  let bytes = 0;
  let count = 0;
  for (const event of ordered) {
    bytes += Buffer.byteLength(JSON.stringify(event));
    if (count > 0 && bytes > MAX_HISTORY_RESPONSE_BYTES) break;
    count++;
  }
  if (count === events.length) return { events, truncated: false };
  return { events: keep === 'oldest' ? events.slice(0, count) : events.slice(events.length - count), truncated: true };
}

function forgetPeer({ knownPeers, log }: ControlContext, { name }: ForgetPeerParams): ForgetPeerResult {
  const forgotten = knownPeers.forget(name);
  if (!forgotten) throw new ControlError(ErrorCode.unknownPeer, `no pinned peer is named "${name}" (see chat peers)`);
  log.info(`forgot the key of ${quote(name)} (${formatFingerprint(forgotten.fingerprint)})`);
  return { forgotten };
}

/** Pins a name to a key the user got out of band, before that peer ever connects. */
function addPeer({ knownPeers, log }: ControlContext, { name, fingerprint }: AddPeerParams): AddPeerResult {
  const check = knownPeers.check(name, fingerprint);
  if (check.status === 'changed') {
    throw new ControlError(
      ErrorCode.alreadyPinned,
      `"${name}" is pinned to another key (${formatFingerprint(check.pinned.fingerprint)}); if that is wrong, run first: chat peers forget "${name}"`,
    );
  }
  const added = knownPeers.add(name, fingerprint, new Date().toISOString());
  if (added === 'pinned') log.info(`pinned ${quote(name)} to the key ${formatFingerprint(fingerprint)} (chat peers add)`);
  const pinned = knownPeers.list().find((peer) => peer.name === name)!;
  return { added: pinned, alreadyPinned: added === 'known' };
}

/** Opens the invite: the next one new key may connect within `forMs`. */
function invite(context: ControlContext, { forMs = DEFAULT_INVITE_MS }: InviteParams): InviteResult {
  if (context.gatekeeper.mode === 'known') {
    throw new ControlError(
      ErrorCode.notInviting,
      'this daemon accepts only pinned peers (--accept known): pin the peer with "chat peers add NAME --fingerprint FP" instead',
    );
  }
  const open = context.gatekeeper.invite(forMs);
  return { name: context.name, fingerprint: context.fingerprint, addresses: context.addresses(), invite: open };
}

/** Size of a regular file this process can read, or a ControlError naming the path and the problem. */
async function checkReadableFile(filePath: string): Promise<number> {
  let info;
  try {
    info = await stat(filePath);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new ControlError(ErrorCode.fileUnreadable, `${filePath}: no such file`);
    if (code === 'EACCES') throw new ControlError(ErrorCode.fileUnreadable, `${filePath}: permission denied`);
    throw new ControlError(ErrorCode.fileUnreadable, `${filePath}: ${(error as Error).message}`);
  }
  if (info.isDirectory()) throw new ControlError(ErrorCode.fileUnreadable, `${filePath}: is a directory, not a file`);
  if (!info.isFile()) throw new ControlError(ErrorCode.fileUnreadable, `${filePath}: not a regular file`);
  try {
    const handle = await open(filePath, 'r');
    await handle.close();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ControlError(ErrorCode.fileUnreadable, `${filePath}: ${code === 'EACCES' ? 'permission denied' : (error as Error).message}`);
  }
  return info.size;
}
