import type { ControlClient } from '../control/client.ts';
import type { ChatEvent } from '../control/protocol.ts';
import { fetchLatestEvents } from './history-pages.ts';

/**
 * Subscribes first and reads the backlog second, so no event falls in the gap between the two;
 * events seen in both are delivered once, in sequence order.
 */
export async function followEvents(
  client: ControlClient,
  backlog: number,
  deliver: (event: ChatEvent) => void,
): Promise<void> {
  let lastSeq = 0;
  let buffered: ChatEvent[] | undefined = [];
  const emit = (event: ChatEvent) => {
    if (event.seq <= lastSeq) return;
    lastSeq = event.seq;
    deliver(event);
  };
  client.onNotification('event', (event) => {
    if (buffered) buffered.push(event);
    else emit(event);
  });
  await client.request('subscribe', {});
  for (const event of backlog > 0 ? await fetchLatestEvents(client, backlog) : []) emit(event);
  const early = buffered;
  buffered = undefined;
  for (const event of early) emit(event);
}
