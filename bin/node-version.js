// Runs before anything else in bin/: on a Node too old for chat (the machines' system Node is 20),
// re-run the same script with the Node 24 that the project installs (devDependency "node").
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const MINIMUM = [22, 13];

export function ensureSupportedNode(scriptUrl) {
  const [major, minor] = process.versions.node.split('.').map(Number);
  if (major > MINIMUM[0] || (major === MINIMUM[0] && minor >= MINIMUM[1])) return;
  const bundled = fileURLToPath(new URL('../node_modules/node/bin/node', import.meta.url));
  if (!existsSync(bundled)) {
    process.stderr.write(`chat: needs Node.js ${MINIMUM.join('.')} or newer (this is ${process.version}); run "npm ci" to install the project's Node 24\n`);
    process.exit(1);
  }
  // The child gets terminal signals itself; this wrapper must outlive it to pass on its exit code.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => undefined);
  const result = spawnSync(bundled, [fileURLToPath(scriptUrl), ...process.argv.slice(2)], { stdio: 'inherit' });
  if (result.error) {
    process.stderr.write(`chat: cannot run ${bundled}: ${result.error.message}\n`);
    process.exit(1);
  }
  process.exit(result.status ?? 1);
}
