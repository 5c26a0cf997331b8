/** The console's view of the peer link, as its prompt shows it: `bob >`, `(reconnecting to bob) >`, `(not connected) >`. */
import type { ChatEvent, StatusResult } from '../../control/protocol.ts';
import { human, type HumanText } from '../output.ts';

export type LinkState =
  | { state: 'connected'; peer: string }
  | { state: 'reconnecting'; peer: string }
  | { state: 'not connected' };

export const NOT_CONNECTED: LinkState = { state: 'not connected' };

export function linkOfStatus(status: StatusResult): LinkState {
  if (status.connection === 'connected' && status.peer) return { state: 'connected', peer: status.peer.name };
  if (status.reconnect) return { state: 'reconnecting', peer: status.reconnect.name };
  return NOT_CONNECTED;
}

/**
 * The link after a peer event. A refusal (a stranger turned away while bob stays connected) changes
 * nothing; a disconnection of another name than the connected one (a connection it replaced) neither.
 */
export function linkAfter(link: LinkState, event: ChatEvent): LinkState {
  if (event.type !== 'peer') return link;
  switch (event.state) {
    case 'connected':
      return { state: 'connected', peer: event.from };
    case 'reconnecting':
      return { state: 'reconnecting', peer: event.from };
    case 'disconnected':
      return link.state === 'not connected' || link.peer === event.from ? NOT_CONNECTED : link;
    case 'refused':
      return link;
  }
}

/** The prompt; the peer's name is escaped like every peer string. */
export function promptFor(link: LinkState): HumanText {
  switch (link.state) {
    case 'connected':
      return human`${link.peer} > `;
    case 'reconnecting':
      return human`(reconnecting to ${link.peer}) > `;
    case 'not connected':
      return human`(not connected) > `;
  }
}
