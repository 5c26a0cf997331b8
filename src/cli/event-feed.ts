/**
 * Following the daemon's history events without a gap or a repeat, on one connection or, for
 * `chat tail`, across the new connections it resumes on when the daemon closes one.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { DaemonGoneError, DaemonNotRunningError, type ControlClient } from '../control/client.ts';
import type { ChatEvent } from '../control/protocol.ts';
import { eventsAfter, fetchLatestEvents } from './history-pages.ts';

/** Where a feed starts: the newest `latest` events, or every event after seq `after`. */
export type FeedStart = { latest: number } | { after: number };

/** Delivers each event once, in seq order: what came twice (backlog and notification) is skipped. */
class SeqFilter {
  lastSeq = 0;
  private readonly deliver: (event: ChatEvent) => void;

  constructor(deliver: (event: ChatEvent) => void) {
    this.deliver = deliver;
  }

  emit(event: ChatEvent): void {
    if (event.seq <= this.lastSeq) return;
    this.lastSeq = event.seq;
    this.deliver(event);
  }
}

/**
 * Subscribes first and reads the past second, so no event falls in the gap between the two;
 * notifications that arrive meanwhile wait until the past is delivered. Reads no further page of
 * the past once `stopped()`.
 */
async function subscribeFrom(client: ControlClient, start: FeedStart, filter: SeqFilter, stopped: () => boolean = () => false): Promise<void> {
  let early: ChatEvent[] | undefined = [];
  client.onNotification('event', (event) => {
    if (early) early.push(event);
    else filter.emit(event);
  });
  await client.request('subscribe', {});
  if ('latest' in start) {
    for (const event of start.latest > 0 ? await fetchLatestEvents(client, start.latest) : []) filter.emit(event);
  } else {
    for await (const page of eventsAfter(client, start.after, stopped)) for (const event of page) filter.emit(event);
  }
  const waiting = early;
  early = undefined;
  for (const event of waiting) filter.emit(event);
}

/** Follows on this one connection: returns once the newest `backlog` events are delivered; new ones follow until it closes. */
export async function followEvents(
  client: ControlClient,
  backlog: number,
  deliver: (event: ChatEvent) => void,
): Promise<void> {
  await subscribeFrom(client, { latest: backlog }, new SeqFilter(deliver));
}

/**
 * Connections in a row that close before they delivered a new event, before a resuming feed gives
 * up. A subscriber the daemon closed for its backlog always has one to come (the notification it
 * was closed for), so only a daemon that closes whoever connects gets here.
 */
export const MAX_RESUME_ATTEMPTS = 5;
/** The wait before the second such connection; it doubles for each next one. */
const RESUME_BACKOFF_MS = 100;

export interface ResumingFeedOptions {
  /** The first connection. */
  client: ControlClient;
  /** Which past events to deliver first. */
  start: FeedStart;
  deliver(event: ChatEvent): void;
  /** A new connection to the same daemon; rejects with DaemonNotRunningError once it is gone. */
  connect(): Promise<ControlClient>;
  /** Told each time the feed goes on, on a new connection, after the event `seq` it delivered last. */
  resumed(seq: number): void;
  /** Resolves when the reader wants to stop (Ctrl-C, its output closed). */
  stop: Promise<void>;
}

/**
 * How a resuming feed ended: the reader stopped it, the daemon is no longer running, or new
 * connections kept closing before they delivered anything (`lastSeq`: the last event delivered).
 */
export type FeedEnd = { reason: 'stopped' | 'daemonStopped' } | { reason: 'cannotResume'; lastSeq: number };

/**
 * Follows until stopped or until the daemon is gone. When the daemon closes the connection (it
 * closes a subscriber that leaves its notifications unread: a stopped or slow reader) while it
 * still runs, the feed connects again and goes on from the history after the last event it
 * delivered: the reader loses nothing, and the daemon holds nothing for it meanwhile.
 */
export async function followResuming(options: ResumingFeedOptions): Promise<FeedEnd> {
  const filter = new SeqFilter(options.deliver);
  // Nothing up to `after` is wanted, not even as a notification.
  if ('after' in options.start) filter.lastSeq = options.start.after;
  let stopped = false;
  void options.stop.then(() => { stopped = true; });
  const whenStopped = options.stop.then(() => 'stopped' as const);
  let client = options.client;
  let start = options.start;
  let failures = 0;
  for (;;) {
    const closed = new Promise<'closed'>((resolve) => client.onClose(() => resolve('closed')));
    const seqBefore = filter.lastSeq;
    try {
      await subscribeFrom(client, start, filter, () => stopped);
      if ((await Promise.race([closed, whenStopped])) === 'stopped') return { reason: 'stopped' };
    } catch (error) {
      // Closed during the subscription or the replay: the same as closed afterwards.
      if (!(error instanceof DaemonGoneError)) throw error;
    }
    failures = filter.lastSeq > seqBefore ? 0 : failures + 1;
    client.close();
    if (stopped) return { reason: 'stopped' };
    if (failures >= MAX_RESUME_ATTEMPTS) return { reason: 'cannotResume', lastSeq: filter.lastSeq };
    if (failures > 0 && (await Promise.race([delay(RESUME_BACKOFF_MS * 2 ** (failures - 1)), whenStopped])) === 'stopped') {
      return { reason: 'stopped' };
    }
    try {
      client = await options.connect();
    } catch (error) {
      if (error instanceof DaemonNotRunningError) return { reason: 'daemonStopped' };
      throw error;
    }
    start = { after: filter.lastSeq };
    options.resumed(filter.lastSeq);
  }
}
