/**
 * Group commit: the history writes asked for within one turn of the event loop run in one
 * transaction, so a burst of messages costs one commit (one fsync) instead of one each.
 */
import type { HistoryStore } from './store.ts';

interface Pending {
  work: () => unknown;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

export class GroupCommit {
  private readonly store: Pick<HistoryStore, 'batch'>;
  private pending: Pending[] = [];
  private scheduled: NodeJS.Immediate | undefined;
  /** Batches committed so far (what the tests and the bench count: one per burst, not per write). */
  commits = 0;

  constructor(store: Pick<HistoryStore, 'batch'>) {
    this.store = store;
  }

  /**
   * Runs `work` (synchronous, against the store) in the next batch. Resolves with what it returned
   * once the batch is committed, so on the disk; rejects with what it threw (the rest of its batch
   * is kept), or with the commit's error.
   */
  run<T>(work: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.pending.push({ work, resolve: resolve as (value: unknown) => void, reject });
      // setImmediate runs after the I/O callbacks of this turn: every frame of the reads that came
      // in together, and every request that arrived with them, is in the batch.
      this.scheduled ??= setImmediate(() => this.flush());
    });
  }

  /** Commits what is pending now (the daemon stopping does this before it closes the history). */
  flush(): void {
    if (this.scheduled) clearImmediate(this.scheduled);
    this.scheduled = undefined;
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 0) return;
    let outcomes;
    try {
      outcomes = this.store.batch(batch.map((item) => item.work));
    } catch (error) {
      for (const item of batch) item.reject(error);
      return;
    }
    this.commits++;
    outcomes.forEach((outcome, index) => {
      if (outcome.ok) batch[index]!.resolve(outcome.value);
      else batch[index]!.reject(outcome.error);
    });
  }
}
