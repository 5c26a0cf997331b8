import type { ChatEvent } from '../control/events.ts';
import { formatFingerprint } from '../control/fingerprint.ts';
import { formatByteSize as formatBytes } from '../control/sizes.ts';

/**
 * Text from the peer may carry terminal escape sequences; shown raw they could rewrite the screen
 * or fake other lines. Human output shows them as visible escapes (\x1b); --json keeps exact text.
 */
export function printable(text: string): string {
  return text
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`)
    // Bidirectional overrides and isolates can make a name or a line read as something else.
    .replace(/[\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** printable() for text that must stay on one line (error messages): newlines and tabs escaped too. */
export function printableLine(text: string): string {
  return printable(text).replace(/\n/g, '\\n').replace(/\t/g, '\\t');
}

export function formatTime(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
}

export { formatByteSize as formatBytes } from '../control/sizes.ts';

/** One history event as a person reads it: time, who, what. Continuation lines are indented. */
export function formatEvent(event: ChatEvent): string {
  const time = formatTime(event.time);
  const who = printable(event.from);
  switch (event.type) {
    case 'message': {
      const lines = event.text.split('\n').map(printable);
      const indent = ' '.repeat(time.length + who.length + 4);
      return `${time}  ${who}: ${lines.join(`\n${indent}`)}`;
    }
    case 'file':
      return event.direction === 'in'
        ? `${time}  ${who} sent you ${printable(event.name)} (${formatBytes(event.size)}, sha256 ${event.sha256}) -> ${printable(event.path)}`
        : `${time}  ${who} sent ${printable(event.name)} to ${printable(event.to)} (${formatBytes(event.size)}, sha256 ${event.sha256})`;
    case 'peer': {
      const key = event.fingerprint ? `fingerprint ${formatFingerprint(event.fingerprint)}` : '';
      if (event.state === 'connected') {
        const trust = event.firstContact ? `first contact, key pinned: ${key}` : key;
        return `${time}  * connected to ${who} (${event.address}${trust ? `; ${trust}` : ''})`;
      }
      if (event.state === 'refused') return `${time}  * refused ${who} (${event.address}): ${printable(event.reason ?? '')}`;
      return `${time}  * ${who} disconnected${event.reason ? ` (${printable(event.reason)})` : ''}`;
    }
  }
}
