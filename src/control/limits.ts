/**
 * Every limit of the control socket, in one place. docs/control-protocol.md (*Limits*) documents
 * the same names and values; test/docs/protocol-docs.test.ts keeps the two in step.
 */

/** Largest control message the daemon reads or writes (bytes before the `\f`); bigger ones it reads close that client. */
export const MAX_CONTROL_MESSAGE_BYTES = 4 * 1024 * 1024;
/**
 * Largest JSON-RPC answer (one response, or a whole batch's array) the daemon sends. The rest of
 * MAX_CONTROL_MESSAGE_BYTES is room for node-ipc's `{"type":"rpc","data":…}` envelope. A bigger
 * answer is replaced by `answerTooLarge` errors, never dropped.
 */
export const MAX_CONTROL_ANSWER_BYTES = MAX_CONTROL_MESSAGE_BYTES - 1024;
/**
 * Most calls in one JSON-RPC batch; a longer batch is refused whole with one error, before any
 * call runs. The daemon holds every answer of a batch until the last is done, so this bounds the
 * memory of one message: 16 history pages of at most ~1.5 MiB each.
 */
export const MAX_CONTROL_BATCH_LENGTH = 16;
/** A control message must arrive completely within this once it has started. */
export const CONTROL_MESSAGE_TIMEOUT_MS = 30_000;
/**
 * Clients connected at once. When one more connects, the client idle the longest is closed to make
 * room (a client that subscribed or has a call in progress is never idle); if none is idle, the
 * newcomer is closed.
 */
export const MAX_CONTROL_CONNECTIONS = 64;
/**
 * A client that has no call in progress and has not subscribed is closed after this long without
 * a request: a forgotten or stuck script cannot hold a connection slot for ever.
 */
export const CONTROL_IDLE_TIMEOUT_MS = 30_000;
/**
 * Bytes written to one client and not yet taken by the kernel, above which the client is closed
 * (logged) when the next notification is due. Without it a stopped or slow subscriber (`chat tail`
 * under Ctrl-Z) made the daemon hold node-ipc's 8 MiB of unsent writes each: 24 stopped tails
 * held 368 MB. `chat tail` then resumes by itself after the last event it printed (history by
 * `seq`), so it loses nothing. The check comes before each notification is written, so a client
 * costs at most this plus one event (about 1.5 MiB at the most).
 */
export const MAX_NOTIFICATION_BACKLOG_BYTES = 1024 * 1024;
