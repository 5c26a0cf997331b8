// The protocol documents name exactly what the code has: no method, error code, frame type or
// limit is missing from docs/, and none is documented that the code lacks.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import * as controlLimits from '../../src/control/limits.ts';
import { ErrorCode, type ChatEvent, type MethodName } from '../../src/control/protocol.ts';
import type { TransferState } from '../../src/history/events.ts';
import { BYE_CODES } from '../../src/wire/bye-codes.ts';
import { FrameType } from '../../src/wire/frames.ts';
import * as limits from '../../src/wire/limits.ts';

const control = readFileSync(new URL('../../docs/control-protocol.md', import.meta.url), 'utf8');
const peer = readFileSync(new URL('../../docs/peer-protocol.md', import.meta.url), 'utf8');

/** Every method of ControlMethods; the type check fails here when one is added or removed. */
const METHODS: Record<MethodName, true> = {
  status: true, stop: true, connect: true, disconnect: true, send: true, transfer: true, history: true, subscribe: true,
  identity: true, peers: true, 'peers.forget': true, 'peers.add': true, invite: true, 'invite.cancel': true, outbox: true, 'outbox.drop': true, transfers: true, 'transfers.cancel': true,
};

/** Every transfer state; the type check fails here when one is added or removed. */
const TRANSFER_STATES: Record<TransferState, true> = { resumed: true, cancelled: true, failed: true };

/** Every event type and, for those with one, every state; the type check fails here when a type is added or removed. */
const EVENT_STATES: Record<ChatEvent['type'], string[]> = {
  message: [], 'message-state': ['delivered', 'dropped'], file: [], peer: ['connected', 'disconnected', 'reconnecting', 'refused'], transfer: Object.keys(TRANSFER_STATES),
};

describe('protocol documentation', () => {
  test('control-protocol.md shows an example line of every event type (and state), each valid JSON', () => {
    const lines = [...control.matchAll(/^\{"seq":.*\}$/gm)].map((match) => JSON.parse(match[0]) as { type: string; state?: string });
    for (const [type, states] of Object.entries(EVENT_STATES)) {
      assert.ok(lines.some((line) => line.type === type), `an example line of type ${type}`);
      for (const state of states) assert.ok(lines.some((line) => line.type === type && line.state === state), `an example of ${type} ${state}`);
    }
    assert.match(control, /\| `type` \| string \| `message`, `message-state`, `file`, `transfer` or `peer`;/);
  });

  test('control-protocol.md has a section for each method, and no other', () => {
    const documented = [...control.matchAll(/^### `([a-z.]+)`/gm)].map((match) => match[1]).sort();
    assert.deepEqual(documented, Object.keys(METHODS).sort());
  });

  test('control-protocol.md lists every error code with its number', () => {
    for (const [name, code] of Object.entries(ErrorCode)) {
      assert.match(control, new RegExp(`\\| ${code} \\| \`${name}\` \\|`), `${name} (${code})`);
    }
  });

  test('control-protocol.md names every limit of src/control/limits.ts with its value', () => {
    const limitsSection = control.slice(control.indexOf('### Limits'), control.indexOf('### JSON-RPC rules'));
    for (const [name, value] of Object.entries(controlLimits)) {
      // The value as the table writes it: seconds, MiB, or the bare number; a derived one by its name only.
      const shown = name.endsWith('_MS') ? `${value / 1000} s`
        : name.endsWith('_BYTES') && value % 1024 ** 2 === 0 ? `${value / 1024 ** 2} MiB`
          : name.endsWith('_BYTES') ? '' : String(value);
      assert.match(limitsSection, new RegExp(`\`${name}\`${shown ? ` = ${shown}` : ''}`), name);
    }
  });

  test('peer-protocol.md lists every frame type with its code', () => {
    const documented = [...peer.matchAll(/^\| `0x([0-9a-f]{2})` \| ([A-Z_]+) \|/gm)].map((match) => Number.parseInt(match[1]!, 16)).sort();
    assert.deepEqual(documented, Object.values(FrameType).sort());
  });

  test('peer-protocol.md lists every BYE code in its table of codes, and no other', () => {
    const table = peer.slice(peer.indexOf('BYE codes, and the reasons chatd sends'), peer.indexOf('## Limits at a glance'));
    const documented = new Set([...table.matchAll(/^\| `([a-zA-Z]+)` \|/gm)].map((match) => match[1]));
    assert.deepEqual([...documented].sort(), [...BYE_CODES].sort());
  });

  test('peer-protocol.md names every limit of src/wire/limits.ts', () => {
    for (const name of Object.keys(limits)) {
      if (name === 'PROTOCOL_NAME' || name === 'FRAME_HEADER_BYTES' || name === 'TRANSFER_ID_BYTES' || name === 'MAX_FILE_SIZE') continue;
      assert.match(peer, new RegExp(`\`${name}\``), name);
    }
  });

  test('every constant peer-protocol.md names with its file is declared in that file', () => {
    const sources = new Map<string, string>();
    for (const entry of readdirSync(new URL('../../src', import.meta.url), { recursive: true, encoding: 'utf8' })) {
      if (entry.endsWith('.ts')) sources.set(entry, readFileSync(new URL(`../../src/${entry}`, import.meta.url), 'utf8'));
    }
    const rows = [...peer.matchAll(/^\| ((?:`[A-Z0-9_]+`(?:, )?)+) \(`([\w/.-]+\.ts)`\)/gm)];
    assert.ok(rows.length >= 20, `constants with their files found: ${rows.length}`);
    for (const [, names, file] of rows) {
      const suffix = file!.replace(/^src\//, '');
      const matches = [...sources.keys()].filter((entry) => entry === suffix || entry.endsWith(`/${suffix}`));
      assert.ok(matches.length > 0, `${file} is a source file`);
      for (const [, name] of names!.matchAll(/`([A-Z0-9_]+)`/g)) {
        const declared = new RegExp(`\\bconst ${name} =`);
        assert.ok(matches.some((entry) => declared.test(sources.get(entry)!)), `${name} is declared in ${file}`);
      }
    }
  });
});
