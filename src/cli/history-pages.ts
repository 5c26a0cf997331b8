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
