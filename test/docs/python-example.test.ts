// The "Sending once, from a script" example of docs/control-protocol.md, run as it is written
// against real daemons: a script in another language can drive the outbox from the doc alone.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ChatHome, collect, historyOf } from '../helpers/chat.ts';

const doc = readFileSync(new URL('../../docs/control-protocol.md', import.meta.url), 'utf8');

/** The first python block after the heading. */
function pythonAfter(heading: string): string {
  const at = doc.indexOf(heading);
  assert.ok(at >= 0, `the doc has "${heading}"`);
  const match = /```python\n([\s\S]*?)```/.exec(doc.slice(at));
  assert.ok(match, 'with a python block');
  return match[1]!;
}

const hasPython = spawnSync('python3', ['--version'], { stdio: 'ignore' }).status === 0;

describe('the documented Python client', { timeout: 120_000, skip: hasPython ? false : 'python3 is not installed' }, () => {
  let home: ChatHome;
  let script: string;
  let bobPort: number;

  before(async () => {
    home = await ChatHome.create();
    script = path.join(home.dir, 'chat-send-once.py');
    writeFileSync(script, pythonAfter('### Sending once, from a script'));
    await home.startDaemon('alice');
    bobPort = (await home.startDaemon('bob')).port;
    assert.equal((await home.run(['connect', '--profile', 'alice', String(bobPort)])).code, 0);
  });
  after(async () => {
    await home.cleanup();
  });

  async function python(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
    const child = spawn('python3', [script, ...args], { env: home.env({ CHAT_PROFILE: 'alice' }) });
    return collect(child, undefined, 30_000);
  }

  test('sends once however often it runs; says queued (exit 4) while the peer is away', async () => {
    const id = randomUUID();
    for (let run = 0; run < 2; run++) {
      const result = await python(id, 'backup', 'done');
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stdout, `delivered ${id} to bob\n`);
    }
    assert.equal((await historyOf(home, 'bob')).filter((event) => event.id === id).length, 1, 'bob has it once');

    assert.equal((await home.run(['daemon', 'stop', '--profile', 'bob'])).code, 0);
    const away = randomUUID();
    const queued = await python(away, 'bob', 'is', 'away');
    assert.equal(queued.code, 4, queued.stderr);
    assert.equal(queued.stdout, `queued ${away} to bob\n1 queued for bob ['${away}']\n`);
  });
});
