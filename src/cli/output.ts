import type { ChatEvent } from '../control/events.ts';

/**
 * Text from the peer may carry terminal escape sequences; shown raw they could rewrite the screen
 * or fake other lines. Human output shows them as visible escapes (\x1b); --json keeps exact text.
 */
export function printable(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

export function formatTime(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(1)} ${units[unit]}`;
}

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
    case 'peer':
      return event.state === 'connected'
        ? `${time}  * connected to ${who} (${event.address})`
        : `${time}  * ${who} disconnected${event.reason ? ` (${printable(event.reason)})` : ''}`;
  }
}
