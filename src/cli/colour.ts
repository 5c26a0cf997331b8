/** Whether human output on a stream is coloured: the one place that decides (NO_COLOR, FORCE_COLOR, a terminal). */

/**
 * Colour when the stream is a terminal (and TERM is not "dumb"), never in a pipe or a file.
 * NO_COLOR (any non-empty value, no-color.org) turns it off; FORCE_COLOR turns it on even in a
 * pipe, and wins over NO_COLOR, as in Node and most tools (FORCE_COLOR=0 or false: off).
 */
export function colourEnabled(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean {
  const force = env.FORCE_COLOR;
  if (force !== undefined) return force !== '0' && force.toLowerCase() !== 'false';
  if (env.NO_COLOR) return false;
  return stream.isTTY === true && env.TERM !== 'dumb';
}
