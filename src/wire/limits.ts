/**
 * Every limit of the peer protocol, in one place. docs/peer-protocol.md documents the same values;
 * change both together.
 */

/**
 * Version of the peer protocol this build speaks (sent in HELLO). 1 ran over plain TCP; 2 runs
 * the same frames inside TLS 1.3 with a certificate on both sides; 3 promises exactly-once
 * messages (a receiver de-duplicates by id and key, so a sender may send a message again) and
 * continues transfers (an offer may repeat an unfinished transfer's id, and FILE_ACCEPT's `offset`
 * says where to continue); 4 adds per-transfer flow control (FILE_CREDIT): the receiver keeps
 * reading while its disk lags, so messages pass file data.
 */
export const PROTOCOL_VERSION = 4;
/**
 * Oldest peer protocol version this build still accepts: 4, since a version 3 sender sends file
 * data without credit, which a version 4 receiver takes as a violation (and a version 2 receiver
 * records a resent message twice; there is no plaintext mode).
 */
export const MIN_PROTOCOL_VERSION = 4;
/** Protocol tag in HELLO, so a stray client of another program is recognised at once. */
export const PROTOCOL_NAME = 'chat-peer';

/** Length prefix (4 bytes) + type (1 byte). */
export const FRAME_HEADER_BYTES = 5;
/**
 * Largest frame body (type byte + payload) accepted. Checked before anything is buffered, so a
 * hostile length prefix cannot make us allocate. Big enough for the largest message text after
 * JSON escaping (6 bytes per control character in the worst case).
 */
export const MAX_FRAME_BYTES = 2 * 1024 * 1024;
/** Largest message text in UTF-8 bytes. */
export const MAX_MESSAGE_BYTES = 256 * 1024;
/** Bytes of a transfer id on the wire (a UUID). */
export const TRANSFER_ID_BYTES = 16;
/**
 * Largest plaintext of one TLS record (RFC 8446 5.1). The receiver's TLS socket hands over at most
 * one record per read.
 */
const TLS_RECORD_BYTES = 16 * 1024;
/**
 * File data per FILE_CHUNK frame: a whole frame (header, transfer id, data) fills one TLS record
 * exactly, so most frames arrive as one read and reach the disk without a copy. (With 16 KiB of
 * data every frame straddled two records and was copied: the receiver's peak RSS went from 135 to
 * 167 MiB at 1 GiB when the link became TLS.)
 */
export const FILE_CHUNK_BYTES = TLS_RECORD_BYTES - FRAME_HEADER_BYTES - TRANSFER_ID_BYTES;
/**
 * A FILE_CHUNK shorter than this costs one of FRAMES_PER_SECOND, as any frame but MESSAGE does;
 * longer ones cost nothing (the credit paces their bytes). chatd sends only full chunks but for a
 * file's last and after a short read, so this never slows a transfer; a flood of tiny chunks is
 * paced like a flood of PINGs.
 */
export const SMALL_CHUNK_BYTES = Math.floor(FILE_CHUNK_BYTES / 2);
/** Longest peer name (UTF-8 bytes). */
export const MAX_NAME_BYTES = 64;
/** Largest TCP port; 0 ("any") is only meaningful for listening. */
export const MAX_PORT = 65535;
/**
 * Longest file name in an offer (UTF-8 bytes), before the receiver makes it safe. Far above any
 * real name, so an odd one is shortened by the receiver rather than treated as an attack.
 */
export const MAX_FILE_NAME_BYTES = 32 * 1024;
/** Longest free-text reason (BYE, DECLINE, CANCEL, RESULT). */
export const MAX_REASON_BYTES = 1024;
/** JSON's longest spelling of one byte of a string: `\u00XX` (any character may be escaped so). */
const JSON_ESCAPED_BYTE = 6;
/**
 * A HELLO body without its two strings, at its largest: the type byte, the braces, the six keys,
 * the instance UUID and three 5-digit numbers (version, minVersion, listenPort).
 */
const HELLO_FIXED_BYTES = 130;
/**
 * The largest valid HELLO frame body: `protocol` and `name` at MAX_NAME_BYTES each, every byte
 * spelled as `\u00XX`, plus the fixed part (898 bytes).
 */
const LARGEST_HELLO_BYTES = HELLO_FIXED_BYTES + 2 * MAX_NAME_BYTES * JSON_ESCAPED_BYTE;
/**
 * The largest valid BYE frame body: the type byte, `{"reason":""}` and MAX_REASON_BYTES escaped
 * (6158 bytes). Its optional `code` adds at most 19 bytes (`,"code":"duplicate"`): a field added
 * within this version, which the 1 KiB of slack below is for, so the limit stays the same.
 */
const LARGEST_BYE_BYTES = 1 + 13 + MAX_REASON_BYTES * JSON_ESCAPED_BYTE;
/**
 * Largest frame body accepted before the handshake is complete: the peer's HELLO or a BYE in its
 * place, and on the listener the dialler's confirming PING or a BYE. Until then the peer is any
 * stranger that finished TLS, and MAX_PENDING_HANDSHAKES of them at once each parked a partial
 * frame of MAX_FRAME_BYTES (measured: RSS 65 -> 142 MiB, not given back). The largest of those
 * valid frames (a BYE) plus 1 KiB for whitespace and fields a later version may add: 7182 bytes,
 * 224 KiB for all pending handshakes together.
 */
export const MAX_HELLO_FRAME_BYTES = Math.max(LARGEST_HELLO_BYTES, LARGEST_BYE_BYTES) + 1024;
/** Largest file size that can be offered: what a JS number represents exactly. */
export const MAX_FILE_SIZE = Number.MAX_SAFE_INTEGER;
/**
 * The TLS handshake and the HELLO exchange must finish within this after the TCP connection is
 * up, or the socket is closed; a dialler also gives the TCP connect itself this long.
 */
export const HANDSHAKE_TIMEOUT_MS = 10_000;
/**
 * File data of one transfer a receiver lets its sender send beyond what is on its disk (FILE_CREDIT):
 * what it holds in memory for the transfer, at most. The receiver never stops reading for its disk,
 * so a message is never stuck behind file data that waits in the kernel for a slow disk.
 */
export const TRANSFER_WINDOW_BYTES = 4 * 1024 * 1024;
/** A receiver sends new credit once it has grown by this much since the last (or reached the file's end). */
export const CREDIT_STEP_BYTES = 1024 * 1024;
/** Incoming transfers at once per connection; more offers are declined. */
export const MAX_INCOMING_TRANSFERS = 4;
/**
 * File data read from disk at once by the sender, then cut into FILE_CHUNK_BYTES frames: a whole
 * number of chunks (about 1 MiB), so no short chunk shifts the frames off the TLS record boundaries.
 */
export const FILE_READ_BYTES = 64 * FILE_CHUNK_BYTES;
/**
 * Read blocks per outgoing transfer. The sender reads the next block while the socket still sends
 * the previous one; a block is reused only once the socket has flushed it. This bounds the file
 * data queued in the socket (so how long a message written meanwhile waits; npm run bench measures it)
 * and the sender's memory per transfer.
 */
export const SEND_BLOCKS = 2;
/**
 * How often a connected side checks for a sign of life, and pings a peer quiet for half of it (any
 * frame answers). Checking every 3 s is what lets PEER_SILENCE_LIMIT_MS be judged closely: a peer
 * is dropped at the first check after the limit, so 12 to 15 s after its last sign of life. A quiet
 * link costs one small PING and PONG (under 100 bytes a packet) every 3 s.
 */
export const PING_INTERVAL_MS = 3_000;
/**
 * A connected peer silent this long (no bytes in, none of ours taken) is dropped as dead: four
 * checks in a row without an answer. A suspended laptop, a pulled cable or a firewall that drops
 * packets sends no FIN, and this is how they are noticed, within 15 s. (It was 60 s with a check
 * every 15 s: a dead link was noticed after 60 to 75 s, when `chat send` had long given up.)
 */
export const PEER_SILENCE_LIMIT_MS = 12_000;
/**
 * Bytes of answers (PONG, MESSAGE_ACK, FILE_ACCEPT, FILE_DECLINE, FILE_RESULT, FILE_CREDIT) queued for a peer
 * and not yet taken by the kernel, above which we stop reading that peer until they are at most
 * half of it: a peer that does not read what it asks for is slowed by TCP instead of growing our
 * memory. Small answers cost far more heap than their bytes (about 200 bytes per queued write), so
 * this is low: 256 KiB of PONGs is about 12,000 writes, a few MiB of heap.
 */
export const OUTPUT_HIGH_WATER_BYTES = 256 * 1024;
/**
 * Every frame queued for one peer and not yet taken by the kernel, file data aside (each outgoing
 * transfer bounds its own at SEND_BLOCKS x FILE_READ_BYTES). Past it the peer is dropped. Answers
 * stop at OUTPUT_HIGH_WATER_BYTES, so only our own frames (messages, offers) reach it; it holds two
 * of the largest frames.
 */
export const MAX_QUEUED_OUTPUT_BYTES = 2 * MAX_FRAME_BYTES;
/**
 * MESSAGE frames a connection may deliver per second, sustained. Far above any typist and above
 * a script sending line by line, yet it caps what a flooder costs: history rows and `chat tail`
 * lines per second. Frames over a budget are read later (the socket is paused until a token is
 * earned), never dropped: messages are the user's data.
 */
export const MESSAGES_PER_SECOND = 200;
/** MESSAGE frames a connection may deliver at once before MESSAGES_PER_SECOND applies: a pasted block of lines. */
export const MESSAGE_BURST = 1000;
/**
 * UTF-8 bytes of MESSAGE text a connection may deliver per second, sustained, next to the count:
 * 200 messages of MAX_MESSAGE_BYTES would be 51 MiB a second into the history and to every
 * `chat tail`. 1 MiB a second is about a novel a second, far above any typist or pasted text, and is
 * what a flood of large messages costs: history bytes, tail output. Paced like the count (read
 * later, never dropped).
 */
export const MESSAGE_BYTES_PER_SECOND = 1024 * 1024;
/** Bytes of message text a connection may deliver at once before MESSAGE_BYTES_PER_SECOND applies: 32 of the largest messages. */
export const MESSAGE_BYTE_BURST = 8 * 1024 * 1024;
/**
 * Frames other than MESSAGE and FILE_CHUNK a connection may deliver per second, sustained. A real
 * peer sends a few: pings, one MESSAGE_ACK per message of ours (which its own MESSAGES_PER_SECOND
 * paces), a handful per file. This is 100 times that and a few percent of one core, and it bounds
 * how fast a flood of tiny frames makes garbage: unpaced, a PING flood was handled at about a
 * million frames a second and V8's young generation alone grew the daemon's RSS by 60 MB.
 */
export const FRAMES_PER_SECOND = 20_000;
/**
 * Such frames a connection may deliver at once before FRAMES_PER_SECOND applies: above the
 * MESSAGE_BURST acknowledgements a real peer may send back at once. (A burst of a full second's
 * worth let a PING flood raise RSS by 10 MB more.)
 */
export const FRAME_BURST = 2000;
