/** `chat tail --no-follow`'s job, shared by the oclif command and the fast path: print the past events and stop. */
import type { ControlClient } from '../control/client.ts';
import type { ChatEvent } from '../control/protocol.ts';
import { eventsAfter, fetchLatestEvents } from './history-pages.ts';
import { formatEvent } from './output.ts';
import { writeHuman, writeJsonLine } from './terminal.ts';

/** Prints one event: an NDJSON line with `json`, else the human line. */
export function printEvent(event: ChatEvent, json: boolean): void {
  if (json) writeJsonLine(event);
  else writeHuman('stdout', formatEvent(event));
}

/**
 * Prints the newest `latest` events, or every event after the seq `after`, page by page; pages stop
 * being read once `stopped()` (the reader of our output has gone).
 */
export async function printPastEvents(client: ControlClient, start: { latest: number } | { after: number }, json: boolean, stopped: () => boolean): Promise<void> {
  if ('latest' in start) for (const event of await fetchLatestEvents(client, start.latest)) printEvent(event, json);
  else for await (const page of eventsAfter(client, start.after, stopped)) for (const event of page) printEvent(event, json);
}
