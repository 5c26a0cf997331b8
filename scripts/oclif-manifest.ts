/**
 * Writes oclif.manifest.json from the built commands with @oclif/core, as `oclif manifest` did,
 * without the `oclif` CLI package (about 110 packages, AWS SDK included, for this one step).
 *
 * Usage: node scripts/oclif-manifest.ts [OUTPUT]  (default: oclif.manifest.json at the package root)
 */
import { Plugin } from '@oclif/core';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const PACKAGE_ROOT = fileURLToPath(new URL('..', import.meta.url));
export const MANIFEST_FILE = path.join(PACKAGE_ROOT, 'oclif.manifest.json');

/**
 * The manifest text, built the way oclif 6's `manifest` command builds it: a core plugin loaded
 * from the package root, ignoring any manifest already there, failing on a command that does not
 * load, and serialised with two-space indentation and no final newline. Commands are listed by
 * id: oclif lists them in the order the file system returns dist/commands, which differs between
 * machines (a fresh clone's CI wrote `peers` before `peers:forget`, this one after).
 */
export async function renderManifest(root: string = PACKAGE_ROOT): Promise<string> {
  const plugin = new Plugin({ root, type: 'core', ignoreManifest: true, errorOnManifestCreate: true, respectNoCacheDefault: true });
  await plugin.load();
  const { commands, ...rest } = plugin.manifest;
  const byId = Object.fromEntries(Object.keys(commands).sort().map((id) => [id, commands[id]]));
  return JSON.stringify({ commands: byId, ...rest }, null, 2);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const output = path.resolve(process.argv[2] ?? MANIFEST_FILE);
  writeFileSync(output, await renderManifest());
  process.stdout.write(`wrote manifest to ${output}\n`);
}
