/**
 * Where what a connected peer sends goes: its messages (once each) and the files it delivered into
 * the event feed, its file offers past the storage check first.
 */
import type { MessageLedger } from '../history/message-ledger.ts';
import { quote } from '../peer/log-text.ts';
import type { PeerInfo, SessionHandlers } from '../peer/session.ts';
import type { EventFeed } from './event-feed.ts';
import type { Logger } from './logger.ts';
import { heldBytes, storageProblem, writeFailureReason, type StorageLimits } from './storage-check.ts';

export interface PeerContentOptions extends StorageLimits {
  /** This daemon's name, the `to` of what it receives. */
  name: string;
  feed: EventFeed;
  /** Which messages each key has sent: one sent again (after a reconnection) is not recorded twice. */
  ledger: MessageLedger;
  log: Logger;
}

/**
 * The content handlers of one session, logged as `address`: `peer` is its peer once the handshake
 * is done (nothing arrives before), and only while `isActive` are its files accepted.
 */
export function peerContentHandlers(
  peer: () => PeerInfo,
  address: string,
  isActive: () => boolean,
  options: PeerContentOptions,
): Pick<SessionHandlers, 'onMessage' | 'acceptFile' | 'onFileReceived' | 'writeFailureReason'> {
  const { name, downloads, feed, ledger, log } = options;
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
      // A transfer offered again needs room only for what its partial file does not hold yet.
      const problem = storageProblem(options, offer.size, reservedBytes, log, heldBytes(downloads, offer.id));
      if (problem) {
        log.warn(`peer ${address}: declined ${quote(offer.name)} (${offer.size} bytes): ${problem}`);
        return { decline: problem };
      }
      log.info(`peer ${address}: receiving ${quote(offer.name)} (${offer.size} bytes, transfer ${offer.id})`);
      return { downloads };
    },
    writeFailureReason: (error) => writeFailureReason(error, name, downloads),
    onFileReceived: (file) => {
      log.info(`peer ${address}: stored ${quote(file.name)} in ${downloads.path} (${file.size} bytes, sha256 ${file.sha256})`);
      feed.record({
        type: 'file', direction: 'in', id: file.id, time: new Date().toISOString(),
        from: peer().name, to: name,
        name: file.name, size: file.size, sha256: file.sha256, path: file.path,
      });
    },
  };
}
