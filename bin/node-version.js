// Runs before anything else in bin/: on a Node too old for chat (the machines' system Node is 20),
// re-run the same script with the Node 24 that the package brings (its dependency "node").
// Nothing is imported until a Node is too old: on a current one this file costs chat's start-up nothing.

const MINIMUM = [22, 13];

/**
 * Returns at once on a Node new enough; otherwise runs the script under the package's own Node and
 * never settles: the caller awaits it, and this process ends as the child does.
 * `forwardSigint`: pass SIGINT on too. A terminal's Ctrl-C already reaches the child (same process
 * group), so only a daemon, for which a second SIGINT is harmless, wants it forwarded.
 */
export async function ensureSupportedNode(scriptUrl, { forwardSigint = false } = {}) {
  const [major, minor] = process.versions.node.split('.').map(Number);
  if (major > MINIMUM[0] || (major === MINIMUM[0] && minor >= MINIMUM[1])) return;
  const [{ spawn }, { existsSync }, { createRequire }, { dirname, join }, { fileURLToPath }] = await Promise.all(
    ['node:child_process', 'node:fs', 'node:module', 'node:path', 'node:url'].map((name) => import(name)),
  );
  const bundled = bundledNode({ existsSync, createRequire, dirname, join });
  if (!bundled) {
    process.stderr.write(`chat: needs Node.js ${MINIMUM.join('.')} or newer (this is ${process.version}), and the package's own Node is missing: in a clone run "npm ci"; for an installed chat, install it again without --ignore-scripts (the package "node" fetches it in its install script)\n`);
    process.exit(1);
  }
  const child = spawn(bundled, [fileURLToPath(scriptUrl), ...process.argv.slice(2)], { stdio: 'inherit' });
  // A supervisor (systemd, launchd, kill) signals this wrapper's pid: the real program must hear it.
  const forwarded = forwardSigint ? ['SIGINT', 'SIGTERM', 'SIGHUP'] : ['SIGTERM', 'SIGHUP'];
  for (const signal of forwarded) process.on(signal, () => child.kill(signal));
  // Ctrl-C reaches the child by itself; this wrapper outlives it to pass on its exit status.
  if (!forwardSigint) process.on('SIGINT', () => undefined);
  child.on('error', (error) => {
    process.stderr.write(`chat: cannot run ${bundled}: ${error.message}\n`);
    process.exit(1);
  });
  child.on('exit', (code, signal) => {
    if (signal === null) process.exit(code ?? 1);
    // Die of the same signal, so that whoever waits on this pid sees what happened to the child.
    process.removeAllListeners(signal);
    process.kill(process.pid, signal);
  });
  return new Promise(() => undefined);
}

/** The package's Node: its dependency "node", nested under the package or hoisted beside it. */
function bundledNode({ existsSync, createRequire, dirname, join }) {
  try {
    const packageJson = createRequire(import.meta.url).resolve('node/package.json');
    const binary = join(dirname(packageJson), 'bin', 'node');
    if (existsSync(binary)) return binary;
  } catch {
    // Not installed at all: reported by the caller.
  }
  return undefined;
}
