/**
 * The outgoing transfers not finished yet, kept in the profile (`transfers.json`, owner-only,
 * replaced atomically) so that a transfer outlives its connection and its daemon.
 */
import { readFileSync } from 'node:fs';
import { checkPrivateFile, writePrivateFile } from '../files/owner-only.ts';
import { UUID_PATTERN } from '../wire/uuid.ts';

/** One outgoing transfer as it started: what is needed to offer it again with the same id. */
export interface TransferRecord {
  id: string;
  /** The source file, absolute. */
  path: string;
  /** The name offered (the source's base name). */
  name: string;
  size: number;
  /** The source's modification time when it started: another one means the file changed. */
  mtimeMs: number;
  /** The receiver's key: the transfer is offered again to this key only. */
  peer: string;
  /** The receiver's name when it started, for people. */
  peerName: string;
  /** When it started (epoch ms). */
  started: number;
}

/**
 * Unfinished outgoing transfers kept at most: past it a new transfer is refused (each is a file
 * the daemon will offer again, and a line in a file rewritten on every change).
 */
export const MAX_UNFINISHED_TRANSFERS = 64;

const FILE_VERSION = 1;
const FINGERPRINT_PATTERN = /^[0-9a-f]{64}$/;

export class TransferRecordFile {
  private readonly file: string;

  constructor(file: string) {
    this.file = file;
  }

  /** Where the records are kept. */
  get path(): string {
    return this.file;
  }

  /** The records in the file, none when there is none; throws a line naming the file when it is damaged. */
  load(): TransferRecord[] {
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    checkPrivateFile(this.file, 'the transfers file');
    return parseTransferRecords(text, this.file);
  }

  save(records: TransferRecord[]): void {
    writePrivateFile(this.file, `${JSON.stringify({ version: FILE_VERSION, transfers: records }, null, 2)}\n`);
  }
}

/** The file's records, checked field by field. */
export function parseTransferRecords(text: string, file: string): TransferRecord[] {
  const damaged = (why: string) => new Error(`the transfers file ${file} is damaged (${why}); remove it (its transfers are not continued then)`);
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch {
    throw damaged('not JSON');
  }
  if (typeof document !== 'object' || document === null) throw damaged('not a JSON object');
  const { version, transfers } = document as Record<string, unknown>;
  if (version !== FILE_VERSION) throw damaged(`expected "version": ${FILE_VERSION}`);
  if (!Array.isArray(transfers) || transfers.length > MAX_UNFINISHED_TRANSFERS) throw damaged(`"transfers" is not a list of at most ${MAX_UNFINISHED_TRANSFERS}`);
  return transfers.map((entry: unknown, index) => {
    const record = (entry ?? {}) as Record<string, unknown>;
    const { id, path, name, size, mtimeMs, peer, peerName, started } = record;
    const ok = typeof id === 'string' && UUID_PATTERN.test(id)
      && typeof path === 'string' && path.length > 0
      && typeof name === 'string' && name.length > 0
      && Number.isSafeInteger(size) && (size as number) >= 0
      && typeof mtimeMs === 'number' && Number.isFinite(mtimeMs)
      && typeof peer === 'string' && FINGERPRINT_PATTERN.test(peer)
      && typeof peerName === 'string'
      && typeof started === 'number' && Number.isFinite(started);
    if (!ok) throw damaged(`transfer ${index + 1} is not a transfer record`);
    return record as unknown as TransferRecord;
  });
}
