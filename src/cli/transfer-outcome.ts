/** The line that says what became of a `transfer` that is not complete yet: it goes on in the daemon. */
import type { UnfinishedTransferResult } from '../control/protocol.ts';
import { formatBytes, human, type HumanText } from './output.ts';

/** Why it is not complete, and that it needs nothing more: `chat transfer` exits 4 with it. */
export function unfinishedTransferLine(result: UnfinishedTransferResult): HumanText {
  if (result.waiting === 'room') {
    return human`${result.name} is not complete: ${result.reason}; it resumes by itself once there is room (see chat transfers)`;
  }
  if (result.waiting === 'link') {
    return human`${result.name} is not complete: ${result.reason}; it continues when ${result.to} is connected again (see chat transfers)`;
  }
  return human`${result.name} is not complete yet (${formatBytes(result.bytes)} of ${formatBytes(result.size)} sent): the daemon goes on until ${result.to} has it (see chat transfers); do not send it again`;
}
