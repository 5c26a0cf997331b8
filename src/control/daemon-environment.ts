/** The environment chatd is started with: the caller's, plus the V8 heap setting that keeps the daemon's memory flat. */

/**
 * The young generation's size limit for chatd, in MiB (V8's `--max-semi-space-size`). Under a
 * transfer V8 grows it to 32 MiB by default, and the file's buffers then die in it far less often:
 * the receiver's peak RSS grew with the file's size (177 and 147 MiB at 1 GiB against about 87 at
 * 100 MiB). At 1 it stayed at 100-111 MiB, with no throughput lost (docs/benchmarks.md, row 2).
 * V8 reads it only at start-up (`v8.setFlagsFromString` later has no effect), hence NODE_OPTIONS,
 * which Node, the package's own Node after a re-exec and the single executable all honour.
 */
export const DAEMON_SEMI_SPACE_MIB = 1;

const SEMI_SPACE_OPTION = /(^|\s)--max-semi-space-size(=|\s|$)/;

/** `env` with chatd's heap setting added to NODE_OPTIONS, unless the user set that option there already. */
export function daemonEnvironment(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const options = env.NODE_OPTIONS?.trim() ?? '';
  if (SEMI_SPACE_OPTION.test(options)) return env;
  const own = `--max-semi-space-size=${DAEMON_SEMI_SPACE_MIB}`;
  return { ...env, NODE_OPTIONS: options === '' ? own : `${options} ${own}` };
}
