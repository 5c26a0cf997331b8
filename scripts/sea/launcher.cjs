// The main script of the single executable (scripts/package-sea.ts builds it): unpacks the embedded
// package (bin/, dist/, its bundled node_modules) once into an owner-only cache folder, then runs
// bin/run.js as `chat`, or bin/chatd.js as `chatd`, with this executable as the Node.
'use strict';
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const sea = require('node:sea');
const { createRequire } = require('node:module');
const { pathToFileURL } = require('node:url');

const base = cacheBase();
fs.mkdirSync(base, { recursive: true, mode: 0o700 });
// Whoever could write there could put the code this executable runs: checked on every start, as
// the folder may be in the shared temporary directory.
const owner = fs.lstatSync(base);
if (!owner.isDirectory() || (process.getuid && owner.uid !== process.getuid()) || (owner.mode & 0o022) !== 0) {
  process.stderr.write(`chat: ${base} must be a folder of yours that only you can write to (it holds chat's unpacked code)\n`);
  process.exit(1);
}
// Only the hash is read on every start; the index of files only when unpacking.
const root = path.join(base, `sea-${sea.getAsset('hash', 'utf8')}`);
if (!fs.existsSync(path.join(root, '.complete'))) unpack(root);

// A SEA's argv is [executable, executable, ...arguments]; the scripts read process.argv.slice(2).
const args = process.argv.slice(2);
const chatd = path.join(root, 'bin', 'chatd.js');
let script = path.join(root, 'bin', 'run.js');
if (path.basename(process.execPath).startsWith('chatd')) script = chatd;
// `chat daemon start` spawns process.execPath with bin/chatd.js first: this executable again.
else if (args[0] === chatd) script = args.shift();
process.argv = [process.execPath, script, ...args];
// import() from this embedded script is not file based; a file in the package can import.
createRequire(path.join(root, 'package.json'))('./sea-import.cjs')(pathToFileURL(script).href);

/** $XDG_CACHE_HOME/chat or ~/.cache/chat; a per-user folder in the temporary directory without a home. */
function cacheBase() {
  if (process.env.XDG_CACHE_HOME) return path.join(process.env.XDG_CACHE_HOME, 'chat');
  const home = os.homedir();
  if (home && home !== '/') return path.join(home, '.cache', 'chat');
  return path.join(os.tmpdir(), `chat-${process.getuid?.() ?? 'user'}`);
}

/** Unpacks into a fresh folder beside `target`, then renames it: a racing `chatd` sees all or nothing. */
function unpack(target) {
  const temporary = `${target}.${process.pid}.tmp`;
  fs.rmSync(temporary, { recursive: true, force: true });
  const archive = new Uint8Array(sea.getRawAsset('app'));
  /** @type {Array<[string, number, number, number]>} path, offset, size, mode */
  const files = JSON.parse(sea.getAsset('index.json', 'utf8'));
  for (const [file, offset, size, mode] of files) {
    const destination = path.join(temporary, file);
    fs.mkdirSync(path.dirname(destination), { recursive: true, mode: 0o700 });
    fs.writeFileSync(destination, archive.subarray(offset, offset + size), { mode });
  }
  fs.writeFileSync(path.join(temporary, 'sea-import.cjs'), 'module.exports = (url) => import(url);\n');
  fs.writeFileSync(path.join(temporary, '.complete'), '');
  try {
    fs.renameSync(temporary, target);
  } catch (error) {
    // Another start of this same build got there first: its copy is as good as ours.
    fs.rmSync(temporary, { recursive: true, force: true });
    if (!fs.existsSync(path.join(target, '.complete'))) throw error;
  }
}
