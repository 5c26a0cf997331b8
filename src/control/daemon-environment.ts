/** The environment chatd is started with: the caller's, plus the V8 and malloc settings that keep the daemon's memory flat. */

/**
 * The young generation's size limit for chatd, in MiB (V8's `--max-semi-space-size`). Under a
 * transfer's allocation rate V8 grows it to 32 MiB by default, all of it resident: the receiver's
 * peak RSS was 107-110 MiB at 100 MiB and 122 at 1 GiB with it, 89-90 and 92-98 at 1 (no
 * throughput lost; docs/benchmarks.md, "What was changed to get here"). V8 reads it only at
 * start-up, hence NODE_OPTIONS, which Node, the package's own Node after a re-exec and the single
 * executable all honour.
 */
export const DAEMON_SEMI_SPACE_MIB = 1;

/**
 * glibc's malloc arenas for chatd (`MALLOC_ARENA_MAX`; other C libraries ignore it). With one
 * arena per thread, memory freed after a transfer stayed in the thread pool's arenas: the
 * receiver's peak at 4 GiB was 99-105 MiB with the default, 92-95 with one, at the same speed.
 */
export const DAEMON_MALLOC_ARENAS = 1;

const SEMI_SPACE_OPTION = /(^|\s)--max-semi-space-size(=|\s|$)/;

/**
 * `env` with chatd's heap setting added to NODE_OPTIONS and its malloc setting added, each unless
 * the user set it already.
 */
export function daemonEnvironment(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const options = env.NODE_OPTIONS?.trim() ?? '';
  const own = `--max-semi-space-size=${DAEMON_SEMI_SPACE_MIB}`;
  return {
    ...env,
    NODE_OPTIONS: SEMI_SPACE_OPTION.test(options) ? env.NODE_OPTIONS : options === '' ? own : `${options} ${own}`,
    MALLOC_ARENA_MAX: env.MALLOC_ARENA_MAX ?? String(DAEMON_MALLOC_ARENAS),
  };
}
