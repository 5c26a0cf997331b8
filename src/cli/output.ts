/** Human output: events and sizes as lines, every piece of peer text through the one escaping function. */
import type { ChatEvent } from '../control/protocol.ts';
import { formatFingerprint } from '../identity/fingerprint-notation.ts';
import { formatByteSize as formatBytes } from '../text/sizes.ts';
import { replaceUnsafeCharacters } from '../text/unsafe-characters.ts';

/**
 * Human output: the one escaping function for text that may come from a peer, and HumanText, the
 * only kind of string the terminal writer (terminal.ts) accepts. A HumanText is made by the `human`
 * template tag, which escapes every interpolated string, so no peer text can reach a person's
 * terminal without passing printable().
 */

// Only this module can make a HumanText: the constructor wants a token nobody else holds.
const MINT = Symbol('HumanText');

/**
 * Text that is safe to show on a terminal: the code's own literals plus escaped values. `text` is
 * plain; `painted` is the same with colour codes (paint()) for a terminal that shows colour
 * (src/cli/colour.ts decides, terminal.ts picks one of the two).
 */
export class HumanText {
  readonly text: string;
  readonly painted: string;

  constructor(token: symbol, text: string, painted: string = text) {
    if (token !== MINT) throw new TypeError('HumanText is made by human(), humanLines(), joinLines() or paint() only');
    this.text = text;
    this.painted = painted;
  }

  toString(): string {
    return this.text;
  }
}

/**
 * Text from the peer may carry terminal escape sequences, carriage returns, bidirectional
 * overrides or invisible characters; shown raw they could rewrite the screen, fake other lines or
 * make a name read as another. Each such character (src/text/unsafe-characters.ts) is shown as a
 * visible escape: `\x1b` up to U+00FF, `\u202e` up to U+FFFF, `\u{e0041}` above. Newlines and
 * tabs are escaped too, so one value is one line; multi-line text goes through humanLines().
 * --json output does not use this: it keeps the exact text.
 */
export function printable(text: string): string {
  return replaceUnsafeCharacters(text, (c) => {
    const code = c.codePointAt(0)!;
    if (code <= 0xff) return `\\x${code.toString(16).padStart(2, '0')}`;
    if (code <= 0xffff) return `\\u${code.toString(16).padStart(4, '0')}`;
    return `\\u{${code.toString(16)}}`;
  });
}

/** A value inside `human`: strings are escaped, numbers are digits, HumanText is kept as it is. */
export type HumanValue = HumanText | string | number;

/** `human\`sent ${name} to ${peer}\``: literal parts are the code's, every string value goes through printable(). */
export function human(literals: TemplateStringsArray, ...values: HumanValue[]): HumanText {
  let text = literals[0]!;
  let painted = literals[0]!;
  values.forEach((value, index) => {
    const shown = value instanceof HumanText ? value.text : typeof value === 'number' ? String(value) : printable(value);
    text += shown + literals[index + 1]!;
    painted += (value instanceof HumanText ? value.painted : shown) + literals[index + 1]!;
  });
  return new HumanText(MINT, text, painted);
}

/**
 * What a coloured piece of output is: a name (peer or own), an event that went well, one that
 * needs attention, one that failed, or something of little weight (the time).
 */
export type PaintStyle = 'name' | 'good' | 'notice' | 'bad' | 'faint';

/** SGR codes for each style; the reset after each piece keeps colour from leaking into peer text. */
const STYLE_CODES: Record<PaintStyle, string> = { name: '1;36', good: '32', notice: '33', bad: '31', faint: '2' };

/** A value in a style: coloured on a terminal that shows colour, plain elsewhere; escaped like any value. */
export function paint(style: PaintStyle, value: HumanValue): HumanText {
  const piece = human`${value}`;
  return new HumanText(MINT, piece.text, `\u001b[${STYLE_CODES[style]}m${piece.painted}\u001b[0m`);
}

/**
 * Multi-line text (a message, a stack trace): each line escaped on its own, joined by a newline
 * and `indentWidth` spaces, so a peer's newline starts an indented continuation line, never a line of its own.
 */
export function humanLines(text: string, indentWidth = 0): HumanText {
  return new HumanText(MINT, text.split('\n').map(printable).join(`\n${' '.repeat(indentWidth)}`));
}

/** HumanTexts joined by `separator` (a newline unless told). */
export function joinLines(lines: HumanText[], separator: HumanText = new HumanText(MINT, '\n')): HumanText {
  return new HumanText(MINT, lines.map((line) => line.text).join(separator.text), lines.map((line) => line.painted).join(separator.painted));
}

export function formatTime(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
}

export { formatByteSize as formatBytes } from '../text/sizes.ts';

/** One history event as a person reads it: time, who, what. Continuation lines are indented. Names and event kinds are painted. */
export function formatEvent(event: ChatEvent): HumanText {
  // An incoming message's time is the peer's text when it does not parse: escaped like the rest.
  const time = paint('faint', formatTime(event.time));
  const who = paint('name', event.from);
  switch (event.type) {
    case 'message':
      return human`${time}  ${who}: ${humanLines(event.text, time.text.length + who.text.length + 4)}`;
    case 'message-state':
      return event.state === 'delivered'
        ? human`${time}  * ${paint('good', 'delivered')} to ${paint('name', event.to)} (message ${event.id})`
        : human`${time}  * ${paint('bad', 'dropped')} from the outbox, for ${paint('name', event.to)} (message ${event.id})`;
    case 'file':
      return event.direction === 'in'
        ? human`${time}  ${who} ${paint('good', 'sent you')} ${event.name} (${formatBytes(event.size)}, sha256 ${event.sha256}) -> ${event.path}`
        : human`${time}  ${who} ${paint('good', 'sent')} ${event.name} to ${paint('name', event.to)} (${formatBytes(event.size)}, sha256 ${event.sha256})`;
    case 'transfer': {
      const what = event.direction === 'in' ? human`${event.name} from ${event.from}` : human`${event.name} to ${event.to}`;
      if (event.state === 'resumed') {
        return human`${time}  * transfer of ${what} resumed at ${formatBytes(event.offset ?? 0)} of ${formatBytes(event.size)} (transfer ${event.id})`;
      }
      const state = event.state === 'failed' ? paint('bad', 'failed') : 'cancelled';
      return human`${time}  * transfer of ${what} ${state}: ${event.reason ?? ''} (transfer ${event.id})`;
    }
    case 'peer': {
      const key = event.fingerprint ? `fingerprint ${formatFingerprint(event.fingerprint)}` : '';
      if (event.state === 'connected') {
        const trust = event.firstContact ? `first contact, key pinned: ${key}` : key;
        return human`${time}  * ${paint('good', 'connected')} to ${who} (${event.address}${trust ? `; ${trust}` : ''})`;
      }
      if (event.state === 'refused') return human`${time}  * ${paint('bad', 'refused')} ${who} (${event.address}): ${event.reason ?? ''}`;
      if (event.state === 'reconnecting') return human`${time}  * ${paint('notice', 'reconnecting')} to ${who} (${event.address}): ${event.reason ?? ''}`;
      return event.reason
        ? human`${time}  * ${who} ${paint('notice', 'disconnected')} (${event.reason})`
        : human`${time}  * ${who} ${paint('notice', 'disconnected')}`;
    }
  }
}
