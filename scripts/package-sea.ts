/**
 * Builds chat as one self-contained executable with Node's single-executable applications: the
 * project's Node 24 with a blob injected (postject; Node 24 has no --build-sea) that holds
 * scripts/sea/launcher.cjs and, as one asset, the package (bin/, dist/, the manifest and the
 * bundled node_modules). The same file is `chat` and, named chatd*, `chatd`.
 *
 * Usage: npm run package (builds first). The last line printed is the executable's path.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import postject from 'postject';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const SEA_DIR = path.join(ROOT, 'build', 'sea');
export const EXECUTABLE = path.join(SEA_DIR, 'chat');
/** The fuse Node's binary carries; injecting flips it (single-executable-applications.md). */
const SENTINEL_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';

interface LockEntry { inBundle?: boolean }

/** Every file the installed package runs: what `files` ships plus the bundled dependencies. */
function packageFiles(): string[] {
  const lock = JSON.parse(readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockEntry> };
  const bundled = Object.entries(lock.packages).filter(([key, entry]) => key !== '' && entry.inBundle).map(([key]) => key);
  const files = new Set(['package.json', 'oclif.manifest.json', ...walk('bin'), ...walk('dist'), ...bundled.flatMap(walk)]);
  return [...files].sort();
}

function walk(relative: string): string[] {
  const stat = lstatSync(path.join(ROOT, relative));
  if (stat.isSymbolicLink()) return []; // node_modules/.bin links: nothing runs them
  if (stat.isFile()) return [relative];
  return readdirSync(path.join(ROOT, relative)).flatMap((name) => walk(path.join(relative, name)));
}

/** One archive of all files, and its index (path, offset, size, mode); named by the archive's hash. */
function archive(files: string[]): { app: Buffer; index: { hash: string; files: Array<[string, number, number, number]> } } {
  const parts: Buffer[] = [];
  const entries: Array<[string, number, number, number]> = [];
  let offset = 0;
  for (const file of files) {
    const content = readFileSync(path.join(ROOT, file));
    entries.push([file.split(path.sep).join('/'), offset, content.length, lstatSync(path.join(ROOT, file)).mode & 0o755]);
    parts.push(content);
    offset += content.length;
  }
  const app = Buffer.concat(parts);
  const hash = createHash('sha256').update(app).update(JSON.stringify(entries)).digest('hex').slice(0, 16);
  return { app, index: { hash, files: entries } };
}

async function main(): Promise<void> {
  rmSync(SEA_DIR, { recursive: true, force: true });
  mkdirSync(SEA_DIR, { recursive: true });
  const { app, index } = archive(packageFiles());
  writeFileSync(path.join(SEA_DIR, 'app'), app);
  writeFileSync(path.join(SEA_DIR, 'index.json'), JSON.stringify(index.files));
  writeFileSync(path.join(SEA_DIR, 'hash'), index.hash);
  const config = {
    main: path.join(ROOT, 'scripts', 'sea', 'launcher.cjs'),
    output: path.join(SEA_DIR, 'sea-prep.blob'),
    disableExperimentalSEAWarning: true,
    useCodeCache: true,
    assets: { hash: path.join(SEA_DIR, 'hash'), 'index.json': path.join(SEA_DIR, 'index.json'), app: path.join(SEA_DIR, 'app') },
  };
  writeFileSync(path.join(SEA_DIR, 'sea-config.json'), JSON.stringify(config, null, 2));
  execFileSync(process.execPath, ['--experimental-sea-config', path.join(SEA_DIR, 'sea-config.json')], { stdio: 'inherit' });
  copyFileSync(process.execPath, EXECUTABLE);
  await postject.inject(EXECUTABLE, 'NODE_SEA_BLOB', readFileSync(config.output), { sentinelFuse: SENTINEL_FUSE });
  for (const scratch of ['app', 'hash', 'index.json', 'sea-prep.blob', 'sea-config.json']) rmSync(path.join(SEA_DIR, scratch));
  process.stdout.write(`${index.files.length} files, ${(app.length / 1e6).toFixed(1)} MB of code, in one ${(lstatSync(EXECUTABLE).size / 1e6).toFixed(0)} MB executable (Node ${process.versions.node}, ${process.platform}-${process.arch})\n`);
  process.stdout.write(`${EXECUTABLE}\n`);
}

await main();
