// oclif.manifest.json is generated (scripts/oclif-manifest.ts) and committed: the file in the
// package, the one in git and what the built commands generate must be the same bytes.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SCRIPT = path.join(ROOT, 'scripts', 'oclif-manifest.ts');
const MANIFEST = path.join(ROOT, 'oclif.manifest.json');
const SCRIPT_TIMEOUT_MS = 60_000;

/** Command ids as oclif derives them from the files under dist/commands (`peers/index.js` is `peers`). */
function builtCommandIds(): string[] {
  const dir = path.join(ROOT, 'dist', 'commands');
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.js'))
    .map((file) => file.slice(0, -'.js'.length).split(path.sep).join(':').replace(/:index$/, ''))
    .sort();
}

function git(args: string[]): { code: number | null; stdout: string } {
  const run = spawnSync('git', ['-C', ROOT, ...args], { encoding: 'utf8', timeout: SCRIPT_TIMEOUT_MS });
  return { code: run.error ? null : run.status, stdout: run.stdout ?? '' };
}

describe('oclif manifest', { timeout: 120_000 }, () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'chat-manifest-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('regenerated from the build, it is byte for byte the oclif.manifest.json in the package', () => {
    const output = path.join(dir, 'oclif.manifest.json');
    const run = spawnSync(process.execPath, [SCRIPT, output], { cwd: dir, encoding: 'utf8', timeout: SCRIPT_TIMEOUT_MS });
    assert.equal(run.status, 0, run.stderr);
    const generated = readFileSync(output, 'utf8');
    assert.ok(generated === readFileSync(MANIFEST, 'utf8'), 'oclif.manifest.json is stale: run `npm run build` and commit it');
    // The format `oclif manifest` wrote, which the committed file was recorded from.
    assert.ok(generated.startsWith('{\n  "commands": {\n') && !generated.endsWith('\n'));
  });

  test('it lists every built command, each with its flags', () => {
    const manifest = JSON.parse(readFileSync(MANIFEST, 'utf8')) as { commands: Record<string, { flags: Record<string, unknown> }> };
    // In id order, not the file system's (which differs between machines and failed a fresh clone's CI).
    assert.deepEqual(Object.keys(manifest.commands), builtCommandIds());
    assert.ok('profile' in manifest.commands['send']!.flags);
  });

  test('when the sources are as committed, so is the manifest', (t) => {
    const sourcesChanged = git(['diff', '--quiet', 'HEAD', '--', 'src', 'scripts', 'package.json', 'package-lock.json']);
    if (sourcesChanged.code === null || sourcesChanged.code > 1) return t.skip('not a git checkout');
    if (sourcesChanged.code === 1) return t.skip('the sources differ from HEAD; checked once they are committed');
    const committed = git(['show', 'HEAD:oclif.manifest.json']);
    assert.equal(committed.code, 0, 'oclif.manifest.json is not committed');
    assert.ok(committed.stdout === readFileSync(MANIFEST, 'utf8'), 'oclif.manifest.json differs from the committed one: commit what `npm run build` wrote');
  });
});
