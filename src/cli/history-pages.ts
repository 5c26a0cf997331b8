/** Reading the history a page at a time: the newest N events, or every event after a seq. */
import type { ControlClient } from '../control/client.ts';
import type { ChatEvent } from '../control/protocol.ts';
import { MAX_HISTORY_PAGE } from '../control/protocol.ts';

/** The newest `count` events, oldest first, however many pages the daemon needs to send them. */
export async function fetchLatestEvents(client: ControlClient, count: number): Promise<ChatEvent[]> {
  const events: ChatEvent[] = [];
  let before: number | undefined;
  while (events.length < count) {
    const limit = Math.min(count - events.length, MAX_HISTORY_PAGE);
    const page = await client.request('history', before === undefined ? { limit } : { limit, before });
    events.unshift(...page.events);
    if (page.events.length === 0 || (!page.truncated && page.events.length < limit)) break;
    before = page.events[0]!.seq;
  }
  return events;
}

/**
 * Every event after `seq`, oldest first, one page at a time, until a page comes back empty, or
 * until `stopped()` says nobody wants more: `chat tail --since 0 | head` must not read a history
 * of a million events to its end after `head` has gone.
 */
export async function* eventsAfter(client: ControlClient, seq: number, stopped: () => boolean = () => false): AsyncGenerator<ChatEvent[]> {
  let after = seq;
  while (!stopped()) {
    const page = await client.request('history', { after, limit: MAX_HISTORY_PAGE });
    // Checked again: the news may come while this page was on its way (a stop is a promise's).
    if (page.events.length === 0 || stopped()) return;
    yield page.events;
    after = page.events.at(-1)!.seq;
  }
}
