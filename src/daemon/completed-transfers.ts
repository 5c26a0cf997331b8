/**
 * The incoming transfers completed lately, kept in the profile (`received.json`, owner-only,
 * replaced atomically), so that a sender that missed the result offers it again and is answered,
 * instead of sending the whole file again and having it stored twice.
 */
import { readFileSync } from 'node:fs';
import { checkPrivateFile, writePrivateFile } from '../files/owner-only.ts';
import type { CompletedTransfer } from '../peer/transfer-receiver.ts';
import type { Logger } from './logger.ts';

/**
 * Completed transfers remembered at most, the newest: a sender offers its unfinished transfers
 * again on its next connection, so only the last few matter; each is about 250 bytes.
 */
export const MAX_REMEMBERED_COMPLETED = 256;
/** A completed transfer is forgotten after this long, as a partial file nobody continued (PARTIAL_MAX_AGE_MS). */
export const COMPLETED_MAX_AGE_MS = 7 * 24 * 60 * 60 * 1000;

const FILE_VERSION = 1;

/** One completed incoming transfer: which sender's, which file, and what it became. */
export interface CompletedRecord extends CompletedTransfer {
  id: string;
  /** The sender's key: only it is answered from this record. */
  sender: string;
  size: number;
  /** When it completed (epoch ms). */
  time: number;
}

export class CompletedTransfers {
  private readonly file: string;
  private readonly log: Logger;
  private records: CompletedRecord[] = [];

  constructor(file: string, log: Logger) {
    this.file = file;
    this.log = log;
    try {
      checkPrivateFile(this.file, 'the received transfers file');
      const document = JSON.parse(readFileSync(this.file, 'utf8')) as { version?: unknown; received?: unknown };
      if (document.version === FILE_VERSION && Array.isArray(document.received)) {
        this.records = (document.received as unknown[]).filter(isRecord).slice(-MAX_REMEMBERED_COMPLETED);
      }
    } catch (error) {
      // Without it a sender that missed a result sends that file again: nothing is lost.
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') this.log.warn(`not using ${this.file}: ${(error as Error).message}`);
    }
  }

  /** Transfer `id` of `size` bytes from `sender`, if it completed here lately. */
  find(id: string, sender: string, size: number, now = Date.now()): CompletedTransfer | undefined {
    const record = this.records.find((entry) => entry.id === id && entry.sender === sender && entry.size === size);
    return record && now - record.time <= COMPLETED_MAX_AGE_MS ? { sha256: record.sha256, stored: record.stored } : undefined;
  }

  add(record: CompletedRecord): void {
    this.records = [...this.records.filter((entry) => entry.id !== record.id && record.time - entry.time <= COMPLETED_MAX_AGE_MS), record]
      .slice(-MAX_REMEMBERED_COMPLETED);
    try {
      writePrivateFile(this.file, `${JSON.stringify({ version: FILE_VERSION, received: this.records })}\n`);
    } catch (error) {
      this.log.warn(`cannot record the completed transfer ${record.id}: ${(error as Error).message}`);
    }
  }
}

function isRecord(value: unknown): value is CompletedRecord {
  const record = (value ?? {}) as Record<string, unknown>;
  return typeof record.id === 'string' && typeof record.sender === 'string' && typeof record.sha256 === 'string'
    && typeof record.stored === 'string' && Number.isSafeInteger(record.size) && typeof record.time === 'number';
}
