/** Runs a unit of work inside one write transaction of the store, committing when it returns. */
export type Transact = (work: () => void) => void;

interface Pending {
  /** Does the write; returns what to run once it has committed. */
  readonly run: () => () => void;
  readonly failed: (error: unknown) => void;
}

/** How long a write nobody waits on (an ACK) may wait for company before it is committed alone. */
export const LAZY_COMMIT_MS = 10;

/**
 * Group commit: writes submitted in the same event-loop turn share one durable transaction, so a burst of SENDs and
 * ACKs costs one WAL sync instead of one each. A lazy write (nobody waits on its answer) waits up to LAZY_COMMIT_MS
 * for the next urgent one, or for a flush; readers that must see it (a queue drain) flush first. Each write's `then` runs only after that transaction has committed,
 * in submission order, one right after another (nothing else interleaves between the commit and them).
 * Each unit of work must be atomic on its own (one statement or a nested transaction): a unit that throws is
 * reported to its `failed` and the others still commit.
 */
export class GroupCommit {
  private pending: Pending[] = [];
  /** An urgent flush is due at the end of this turn. */
  private scheduled = false;
  private lazyTimer: NodeJS.Timeout | undefined;
  private lazyDeadline = 0;

  constructor(private readonly transact: Transact) {}

  /** waitMs: 0 commits at the end of this turn; more lets the write wait that long for company (the earliest deadline wins). */
  submit<T>(work: () => T, then: (result: T) => void, failed: (error: unknown) => void, waitMs = 0): void {
    this.pending.push({
      run: () => {
        const result = work();
        return () => then(result);
      },
      failed,
    });
    if (this.scheduled) return;
    if (waitMs <= 0) {
      this.scheduled = true;
      // After the poll phase: every frame read in this turn has been submitted by then.
      setImmediate(() => this.flush());
      return;
    }
    const deadline = performance.now() + waitMs;
    if (this.lazyTimer !== undefined && deadline >= this.lazyDeadline) return;
    clearTimeout(this.lazyTimer);
    this.lazyDeadline = deadline;
    this.lazyTimer = setTimeout(() => this.flush(), waitMs);
  }

  /** Commit everything submitted so far, now (the relay also calls this before closing the store). */
  flush(): void {
    this.scheduled = false;
    clearTimeout(this.lazyTimer);
    this.lazyTimer = undefined;
    const batch = this.pending;
    if (batch.length === 0) return;
    this.pending = [];
    const after: Array<() => void> = [];
    try {
      this.transact(() => {
        for (const item of batch) {
          try {
            after.push(item.run());
          } catch (error) {
            after.push(() => item.failed(error));
          }
        }
      });
    } catch (error) {
      // The commit itself failed: nothing in the batch is stored.
      for (const item of batch) item.failed(error);
      return;
    }
    after.forEach((settle, index) => {
      try {
        settle();
      } catch (error) {
        batch[index]?.failed(error);
      }
    });
  }
}
