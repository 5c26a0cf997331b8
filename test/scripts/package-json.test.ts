// package.json keeps the promises of the install paths (README, *Install*): an installed chat
// brings its Node, and every other runtime dependency comes inside the tarball.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { ROOT } from '../helpers/chat.ts';

const pkg = JSON.parse(readFileSync(`${ROOT}/package.json`, 'utf8')) as {
  dependencies: Record<string, string>;
  bundleDependencies: string[];
  devDependencies: Record<string, string>;
};

test('node is a runtime dependency, at an exact version, and not bundled (its install script fetches the binary for the machine)', () => {
  assert.match(pkg.dependencies.node ?? '', /^\d+\.\d+\.\d+$/);
  assert.ok(!pkg.bundleDependencies.includes('node'));
  assert.equal(pkg.devDependencies.node, undefined);
});

test('every other runtime dependency is bundled: a global install resolves nothing else from the registry', () => {
  assert.deepEqual([...pkg.bundleDependencies].sort(), Object.keys(pkg.dependencies).filter((name) => name !== 'node').sort());
});
