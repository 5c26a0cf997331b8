/**
 * Bundles the CLI's fast path (dist/cli/fast-path.js and all it imports) into one file,
 * dist/fast-path.js, which bin/run.js loads: each ES module file costs Node's loader about
 * 0.2-0.3 ms to resolve, read and link, and the fast path was 25 of them (docs/benchmarks.md,
 * "What was changed to get here").
 *
 * What a command imports only when it runs (`import()`, and the CommonJS packages such as
 * cli-progress) is in the file but evaluated only then. At load time the bundle may import only
 * Node's built-ins; the build fails otherwise.
 *
 * Usage: node scripts/bundle-fast-path.ts  (after tsc has written dist/)
 */
import { build } from 'esbuild';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const PACKAGE_ROOT = fileURLToPath(new URL('..', import.meta.url));
const FAST_PATH_BUNDLE = path.join(PACKAGE_ROOT, 'dist', 'fast-path.js');

const result = await build({
  entryPoints: [path.join(PACKAGE_ROOT, 'dist', 'cli', 'fast-path.js')],
  outfile: FAST_PATH_BUNDLE,
  bundle: true,
  format: 'esm',
  platform: 'node',
  // The oldest Node that runs chat without re-running itself under the package's own (bin/node-version.js).
  target: 'node22.13',
  // The CommonJS packages inside call require() for built-ins, which an ES module does not have.
  banner: { js: "import { createRequire as __chatCreateRequire } from 'node:module';\nconst require = __chatCreateRequire(import.meta.url);" },
  metafile: true,
  logLevel: 'warning',
});
// One entry, no splitting: one output.
const [output] = Object.values(result.metafile.outputs);
const eager = output!.imports.filter((imported) => imported.kind === 'import-statement' && !imported.path.startsWith('node:'));
if (eager.length > 0) {
  process.stderr.write(`bundle-fast-path: the fast path loads more than Node's built-ins: ${eager.map((imported) => imported.path).join(', ')}\n`);
  process.exit(1);
}
