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

/** Every event after `seq`, oldest first, one page at a time, until a page comes back empty. */
export async function* eventsAfter(client: ControlClient, seq: number): AsyncGenerator<ChatEvent[]> {
  let after = seq;
  for (;;) {
    const page = await client.request('history', { after, limit: MAX_HISTORY_PAGE });
    if (page.events.length === 0) return;
    yield page.events;
    after = page.events.at(-1)!.seq;
  }
}
