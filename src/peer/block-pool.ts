/**
 * A fixed set of reusable buffers. The file sender reads into one, hands its slices to the socket,
 * and gets it back once the socket has flushed them: file data makes no garbage, and memory per
 * transfer is the pool, whatever the file size.
 */
export class BlockPool {
  private readonly free: Buffer[] = [];
  private readonly waiting: Array<{ resolve(block: Buffer): void; reject(error: Error): void }> = [];
  private failure: Error | undefined;

  constructor(blocks: number, blockBytes: number) {
    for (let i = 0; i < blocks; i++) this.free.push(Buffer.allocUnsafeSlow(blockBytes));
  }

  /** A free block, waiting for one to come back if all are in use. */
  acquire(): Promise<Buffer> {
    if (this.failure) return Promise.reject(this.failure);
    const block = this.free.pop();
    if (block) return Promise.resolve(block);
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }

  release(block: Buffer): void {
    const next = this.waiting.shift();
    if (next) next.resolve(block);
    else this.free.push(block);
  }

  /** Fails every current and future acquire (the connection is gone). */
  fail(error: Error): void {
    this.failure = error;
    for (const waiter of this.waiting.splice(0)) waiter.reject(error);
  }
}
