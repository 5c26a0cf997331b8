// The layering of src/, read from the import lines: an edge the table below does not allow fails
// the suite. README's Development section draws the same table.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const SRC = fileURLToPath(new URL('../src', import.meta.url));

/** Which layers each layer may import. Data flows down: commands → cli → control → daemon → peer → wire. */
const ALLOWED: Record<string, readonly string[]> = {
  commands: ['cli', 'control', 'identity', 'text'],
  hooks: ['cli'],
  cli: ['control', 'history', 'identity', 'text'],
  control: ['history', 'identity', 'files', 'text', 'wire'],
  daemon: ['control', 'peer', 'history', 'identity', 'files', 'text', 'wire'],
  peer: ['wire', 'identity', 'files', 'text'],
  history: [],
  identity: ['files'],
  files: [],
  text: [],
  wire: [],
};
/** Packages only one layer may load. */
const PACKAGE_OWNERS: Record<string, string> = {
  'node-ipc': 'control',
  'json-rpc-2.0': 'control',
  '@oclif/core': 'cli|commands|hooks',
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && /\.ts$/.test(entry.name))
    .map((entry) => path.join(entry.parentPath, entry.name));
}

function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specifiers: string[] = [];
  for (const match of text.matchAll(/^\s*(?:import|export)\s[^;]*?from\s+'([^']+)'/gms)) specifiers.push(match[1]!);
  for (const match of text.matchAll(/import\(\s*'([^']+)'\s*\)/g)) specifiers.push(match[1]!);
  return specifiers;
}

const layerOf = (file: string) => path.relative(SRC, file).split(path.sep)[0]!;

test('every import in src/ follows the layering', () => {
  const violations: string[] = [];
  const files = sourceFiles(SRC);
  assert.ok(files.length > 20, 'found the sources');
  for (const file of files) {
    const from = layerOf(file);
    const allowed = ALLOWED[from];
    if (!allowed) {
      violations.push(`${path.relative(SRC, file)}: layer "${from}" is not in the table`);
      continue;
    }
    for (const specifier of importsOf(file)) {
      if (specifier.startsWith('.')) {
        const to = layerOf(path.resolve(path.dirname(file), specifier));
        if (to !== from && !allowed.includes(to)) violations.push(`${path.relative(SRC, file)} imports ${specifier} (${from} → ${to})`);
        continue;
      }
      const owner = PACKAGE_OWNERS[specifier];
      if (owner && !owner.split('|').includes(from)) violations.push(`${path.relative(SRC, file)} imports ${specifier}, which only ${owner} may load`);
    }
  }
  assert.deepEqual(violations, []);
});

test('the layering check sees a forbidden edge', () => {
  // The check itself must not be blind: a wire module importing the daemon is caught.
  const from = 'wire';
  const to = layerOf(path.join(SRC, 'daemon', 'daemon.ts'));
  assert.equal(ALLOWED[from]!.includes(to), false);
  const specifiers = importsOf(path.join(SRC, 'daemon', 'daemon.ts'));
  assert.ok(specifiers.some((specifier) => specifier.startsWith('../peer/')), 'imports are read from the file');
});
