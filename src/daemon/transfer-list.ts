/** What `chat transfers` shows and cancels: the unfinished transfers both ways, outgoing from their records, incoming from the partial files kept. */
import { readdir, readFile, stat, unlink } from 'node:fs/promises';
import type { TransferSummary } from '../control/protocol.ts';
import { writePrivateFile } from '../files/owner-only.ts';
import type { PinnedDirectory } from '../files/pinned-directory.ts';
import type { KnownPeers } from '../identity/known-peers.ts';
import type { PeerSession } from '../peer/session.ts';
import { isReceiving, partialNames, type PartialState } from '../peer/transfer-receiver.ts';
import type { ResumableTransfers } from './resumable-transfers.ts';

export interface TransferListContext {
  transfers: ResumableTransfers;
  downloads: PinnedDirectory;
  /** Incoming transfers kept until there is room, with the reason. */
  waitingForRoom: ReadonlyMap<string, string>;
  knownPeers: KnownPeers;
  /** The active session, if it is open. */
  session(): PeerSession | undefined;
}

function withWait(reason: string | undefined): { waitingForRoom?: string } {
  return reason === undefined ? {} : { waitingForRoom: reason };
}

const STATE_NAME = /^\.chat-([0-9a-f-]{36})\.state$/;

/** Every unfinished transfer: outgoing first, oldest first, then incoming, oldest first. */
export async function listTransfers(context: TransferListContext): Promise<TransferSummary[]> {
  const out: TransferSummary[] = context.transfers.list().map((record) => ({
    id: record.id, direction: 'out', name: record.name, size: record.size, bytes: context.transfers.bytesSent(record.id),
    peerFingerprint: record.peer, peer: record.peerName, path: record.path, started: new Date(record.started).toISOString(),
    ...withWait(context.transfers.waitingForRoom(record.id)),
  }));
  const incoming: TransferSummary[] = [];
  let names: string[] = [];
  try {
    names = await readdir(context.downloads.heldPath);
  } catch {
    // no downloads directory to read: nothing incoming to show
  }
  for (const name of names) {
    const id = STATE_NAME.exec(name)?.[1];
    if (!id) continue;
    const summary = await incomingSummary(context, id);
    if (summary) incoming.push(summary);
  }
  incoming.sort((a, b) => a.started.localeCompare(b.started));
  return [...out, ...incoming];
}

async function incomingSummary(context: TransferListContext, id: string): Promise<TransferSummary | undefined> {
  const { part, state } = partialNames(id);
  try {
    const record = JSON.parse(await readFile(context.downloads.entryPath(state), 'utf8')) as PartialState;
    if (record.cancelled) return undefined;
    const { size: held } = await stat(context.downloads.entryPath(part));
    const pinned = context.knownPeers.list().find((peer) => peer.fingerprint === record.sender);
    return {
      id, direction: 'in', name: record.name, size: record.size, bytes: held,
      peerFingerprint: record.sender, peer: pinned?.name ?? '', started: new Date(record.started).toISOString(),
      ...withWait(context.waitingForRoom.get(id)),
    };
  } catch {
    return undefined;
  }
}

/** `transfers.cancel` for an incoming transfer whose last byte is in. */
export class TransferFinishingError extends Error {
  override name = 'TransferFinishingError';
}

/**
 * Cancels transfer `id` for good, either way: an outgoing one is forgotten (and its receiver told,
 * if connected); an incoming one has its partial file removed (and its sender told, if connected).
 * Returns what was cancelled, or undefined for an id that is not unfinished here.
 */
export async function cancelTransfer(context: TransferListContext, id: string, reason: string): Promise<TransferSummary | undefined> {
  const all = await listTransfers(context);
  const summary = all.find((transfer) => transfer.id === id);
  if (!summary) return undefined;
  if (summary.direction === 'out') {
    context.transfers.cancel(id, reason);
    return summary;
  }
  const session = context.session();
  // Its partial file is being verified and renamed: removing it now would fail a complete file.
  if (session?.isFinishing(id)) throw new TransferFinishingError(`transfer ${id} has all its data and is being stored: too late to cancel it (see chat tail)`);
  if (!session?.cancelTransfer(id, reason)) {
    // Still open in a connection that ended (it is being stored, or synced and closed): not touched now.
    if (isReceiving(id)) throw new TransferFinishingError(`transfer ${id} is closing its partial file after a dropped connection: try again in a moment`);
    // Its sender is away: the record stays, marked, so that its next offer is declined, not
    // started again (removed with the stale partial files).
    const { part, state } = partialNames(id);
    const record = JSON.parse(await readFile(context.downloads.entryPath(state), 'utf8')) as PartialState;
    writePrivateFile(context.downloads.entryPath(state), `${JSON.stringify({ ...record, cancelled: true })}\n`);
    await unlink(context.downloads.entryPath(part)).catch(() => undefined);
  }
  return summary;
}
