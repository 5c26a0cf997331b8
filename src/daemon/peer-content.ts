/**
 * Where what a connected peer sends goes: its messages (once each) and the files it delivered into
 * the event feed, its file offers past the storage check first.
 */
import type { MessageLedger } from '../history/message-ledger.ts';
import { quote } from '../peer/log-text.ts';
import type { PeerInfo, SessionHandlers } from '../peer/session.ts';
import type { EventFeed } from './event-feed.ts';
import type { Logger } from './logger.ts';
import type { WindowBudget } from './window-budget.ts';
import type { CompletedTransfers } from './completed-transfers.ts';
import type { TransferState } from '../history/events.ts';
import { unlink } from 'node:fs/promises';
import { partialNames } from '../peer/transfer-receiver.ts';
import { keptPartial, storageProblem, writeFailureReason, type StorageLimits } from './storage-check.ts';

export interface PeerContentOptions extends StorageLimits {
  /** This daemon's name, the `to` of what it receives. */
  name: string;
  feed: EventFeed;
  /** Which messages each key has sent: one sent again (after a reconnection) is not recorded twice. */
  ledger: MessageLedger;
  log: Logger;
  /** Incoming transfers whose partial file is kept until there is room, with the reason (for `chat transfers`). */
  waitingForRoom: Map<string, string>;
  /** Bounds the `transfer` events a peer's offers and cancels make (PEER_TRANSFER_EVENTS_PER_MINUTE). */
  transferEvents: WindowBudget;
  /** The incoming transfers completed lately, for a sender that missed the result. */
  completed: CompletedTransfers;
}

/**
 * `transfer` events (resumed, cancelled) a peer's frames may make this daemon record per minute;
 * the rest are only logged. A person's transfers make a few; a peer that offers and cancels in a
 * loop cannot grow the history faster than this.
 */
export const PEER_TRANSFER_EVENTS_PER_MINUTE = 60;

/**
 * The content handlers of one session, logged as `address`: `peer` is its peer once the handshake
 * is done (nothing arrives before), and only while `isActive` are its files accepted.
 */
export function peerContentHandlers(
  peer: () => PeerInfo,
  address: string,
  isActive: () => boolean,
  options: PeerContentOptions,
): Pick<SessionHandlers, 'onMessage' | 'acceptFile' | 'onFileReceived' | 'writeFailureReason' | 'onWaitingForRoom' | 'discardKept' | 'onResumed' | 'onPeerCancelled' | 'onFailed' | 'completedBefore'> {
  const { name, downloads, feed, ledger, log, waitingForRoom, transferEvents, completed } = options;
  const recordTransfer = (state: TransferState, id: string, file: string, size: number, detail: { offset: number } | { reason: string }) => {
    if (!transferEvents.take()) {
      log.info(`peer ${address}: transfer ${id} ${state} (not recorded: more than ${PEER_TRANSFER_EVENTS_PER_MINUTE} transfer events this minute)`);
      return;
    }
    feed.recordSafely({
      type: 'transfer', state, direction: 'in', id, time: new Date().toISOString(), from: peer().name, to: name, name: file, size, ...detail,
    });
  };
  return {
    // The acknowledgement waits for this: for the commit (with the others of its burst) to be on
    // the disk. A message this key sent before is acknowledged again, and not recorded again.
    onMessage: (message) => {
      const { name: from, fingerprint } = peer();
      return feed.commit(() => {
        const stored = ledger.receive({
          type: 'message', direction: 'in', id: message.id, time: message.time, from, to: name, text: message.text,
        }, fingerprint);
        return { value: undefined, events: stored ? [stored] : [] };
      });
    },
    acceptFile: (offer, reservedBytes) => {
      if (!isActive()) return { decline: 'this connection is not the active one' };
      // A transfer offered again needs room only for what its partial file does not hold yet; one
      // whose partial file is kept here is declined for now (`later`), not for good: the sender
      // offers it again until there is room.
      const kept = keptPartial(downloads, offer.id, peer().fingerprint);
      // Completed here before (its sender missed the result): nothing more is stored.
      const held = completed.find(offer.id, peer().fingerprint, offer.size) ? offer.size : kept?.bytes ?? 0;
      const problem = storageProblem(options, offer.size, reservedBytes, log, held);
      if (problem) {
        log.warn(`peer ${address}: declined ${quote(offer.name)} (${offer.size} bytes)${kept ? ' for now' : ''}: ${problem}`);
        if (!kept) return { decline: problem };
        waitingForRoom.set(offer.id, problem);
        return { decline: problem, later: true };
      }
      waitingForRoom.delete(offer.id);
      log.info(`peer ${address}: receiving ${quote(offer.name)} (${offer.size} bytes, transfer ${offer.id})`);
      return { downloads };
    },
    writeFailureReason: (error) => writeFailureReason(error, name, downloads),
    onWaitingForRoom: (id, reason) => { waitingForRoom.set(id, reason); },
    onResumed: (offer, offset) => recordTransfer('resumed', offer.id, offer.name, offer.size, { offset }),
    onPeerCancelled: (id, file, size, reason) => recordTransfer('cancelled', id, file, size, { reason }),
    onFailed: (id, file, size, reason) => recordTransfer('failed', id, file, size, { reason }),
    discardKept: async (id, sender, reason) => {
      const kept = keptPartial(downloads, id, sender);
      if (!kept) return;
      waitingForRoom.delete(id);
      const { part, state } = partialNames(id);
      await unlink(downloads.entryPath(part)).catch(() => undefined);
      await unlink(downloads.entryPath(state)).catch(() => undefined);
      log.info(`peer ${address}: gave up transfer ${id}: its partial file is removed`);
      recordTransfer('cancelled', id, kept.name, kept.size, { reason });
    },
    completedBefore: (id, sender, size) => completed.find(id, sender, size),
    onFileReceived: (file) => {
      if (file.again) {
        log.info(`peer ${address}: transfer ${file.id} offered again was stored already, as ${quote(file.name)}: answered from its record, not stored twice`);
        return;
      }
      completed.add({ id: file.id, sender: peer().fingerprint, size: file.size, sha256: file.sha256, stored: file.name, time: Date.now() });
      log.info(`peer ${address}: stored ${quote(file.name)} in ${downloads.path} (${file.size} bytes, sha256 ${file.sha256})`);
      feed.record({
        type: 'file', direction: 'in', id: file.id, time: new Date().toISOString(),
        from: peer().name, to: name,
        name: file.name, size: file.size, sha256: file.sha256, path: file.path,
      });
    },
  };
}
