/** Runs a unit of work inside one write transaction of the store, committing when it returns; says whether it changed any row. */
export type Transact = (work: () => void) => boolean;

/**
 * Makes every transaction committed so far survive a power cut, off the event loop, then calls back (with the error if
 * it could not). A store whose commits are durable by themselves has none.
 */
export type SyncCommitted = (done: (error: Error | undefined) => void) => void;

interface Pending {
  /** Does the write; returns what to run once it has committed. */
  readonly run: () => () => void;
  readonly failed: (error: unknown) => void;
  /** performance.now() by which it must be committed (and, unless early, not before); for a held write, on the grid. */
  readonly dueAt: number;
  /** May ride along with any earlier commit. */
  readonly early: boolean;
}

/** When a write may be committed: by `ms` from now, and whether any earlier commit may take it along. */
export interface Wait {
  readonly ms: number;
  readonly early: boolean;
  /** For a held write, the grid its deadline is rounded up to, if not the commit's own. */
  readonly gridMs?: number;
}

/** Commit at the end of this turn. */
export const NOW: Wait = { ms: 0, early: true };
/** Commit with the next commit, or after `ms` at the latest (a write nobody waits on, such as an ACK). */
export const within = (ms: number): Wait => ({ ms, early: true });
/** Commit with the first commit at least `ms` from now (an envelope held that long for its recipient's ACK), on a grid of `gridMs` if given. */
export const notBefore = (ms: number, gridMs?: number): Wait => (gridMs === undefined ? { ms, early: false } : { ms, early: false, gridMs });

/** How long a write nobody waits on (an ACK) may wait for company before it is committed alone. */
export const LAZY_COMMIT_MS = 10;

/** A write due this close to a commit rides along with it rather than waking the loop again a moment later. */
const RIDE_ALONG_MS = 1;

/** How late a commit's timer or end of turn may run before runOverdue() commits in its place. */
export const OVERDUE_MS = 1;

/** A commit waiting for its sync: what to run once it is durable, or to tell if the sync fails. */
interface Committed {
  readonly batch: readonly Pending[];
  readonly after: ReadonlyArray<() => void>;
}

/**
 * Group commit: writes share durable transactions, so a burst of SENDs and ACKs costs one WAL sync instead of one
 * each. Every write says when it may be committed (a Wait): NOW at the end of this turn (every frame read in the turn
 * is in by then); `within` with any commit up to its deadline; `notBefore` only once its deadline has come (an
 * envelope held for its recipient's ACK must not be written early by an unrelated commit). flush() commits everything
 * at once, for readers that must see every write (a queue drain) and for shutdown.
 * Each write's `then` runs only once its transaction is durable, in submission order, one right after another. With a
 * SyncCommitted, a commit is visible at once but durable only when the next sync after it is done: the loop goes on
 * meanwhile (a disk's flush can take milliseconds), and one sync covers every commit made while the one before ran.
 * A commit that changed no row needs no sync: an idle relay's writers and the grid steps of envelopes acked in time
 * flush nothing.
 * Each unit of work must be atomic on its own (one statement or a nested transaction): a unit that throws is
 * reported to its `failed` and the others still commit, unless its failure ended the whole transaction (SQLite may, on
 * a full disk): then every write of the batch is told of that failure, and none is stored.
 */
export class GroupCommit {
  private pending: Pending[] = [];
  /** A commit of what is due is set for the end of this turn. */
  private scheduled = false;
  /** When it was set (performance.now() time). */
  private scheduledAt = 0;
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Number.POSITIVE_INFINITY;
  /** Committed, and waiting for a sync to start. */
  private unsynced: Committed[] = [];
  /** The commits the running sync covers, while one runs; other commits made meanwhile wait for the next. */
  private syncing: Committed[] | undefined;
  /** Called when nothing committed waits for its sync any more. */
  private idle: Array<() => void> = [];

  constructor(
    private readonly transact: Transact,
    /**
     * Held writes (notBefore) are committed on this grid, at the first multiple of it at or after their deadline, so
     * the writes held in one grid step share a commit, and the replies that wait on them share a write per socket.
     * 0: each at its own deadline.
     */
    private readonly heldGridMs = 0,
    /** Makes commits durable after the fact; without it each commit is durable when it returns. */
    private readonly syncCommitted?: SyncCommitted,
    /** Whether the transaction is still open after a unit failed: a failure that ended it fails the whole batch. */
    private readonly stillOpen: () => boolean = () => true,
  ) {}

  /** For a unit that catches its own statements' failures: false once one of them has ended the whole transaction. */
  transactionOpen(): boolean {
    return this.stillOpen();
  }

  submit<T>(work: () => T, then: (result: T) => void, failed: (error: unknown) => void, wait: Wait = NOW): void {
    const dueAt = this.dueAt(wait);
    this.pending.push({
      run: () => {
        const result = work();
        return () => then(result);
      },
      failed,
      dueAt,
      early: wait.early,
    });
    this.schedule(dueAt, wait.ms <= 0);
  }

  /**
   * The performance.now() time by which a write submitted now with this wait is committed; for a held write, the grid
   * point its commit waits for, the same for every held write submitted in one grid step.
   */
  dueAt(wait: Wait): number {
    const dueAt = performance.now() + wait.ms;
    const gridMs = wait.gridMs ?? this.heldGridMs;
    return wait.early || gridMs <= 0 ? dueAt : Math.ceil(dueAt / gridMs) * gridMs;
  }

  /** Commit everything submitted so far, now, whatever its deadline (visible at once; settled once durable). */
  flush(): void {
    this.cancelTimer();
    const batch = this.pending;
    this.pending = [];
    this.commit(batch);
  }

  /**
   * Commit what the timer or the end of turn should have committed by `now`, if they are late: a relay flooded by more
   * than a thousand busy sockets stays in libuv's poll phase, where neither runs, for up to 48 polls of 1,024 sockets.
   * Called from the read path, which runs there.
   */
  runOverdue(now: number): void {
    if (now >= this.timerAt + OVERDUE_MS) {
      this.cancelTimer();
      this.commitDue(now);
    } else if (this.scheduled && now >= this.scheduledAt + OVERDUE_MS) {
      // The immediate still runs later; until then, the next overdue commit is measured from this one.
      this.scheduledAt = now;
      this.commitDue(now);
    }
  }

  /** Resolves once everything committed so far is durable and its writes are settled (for shutdown). */
  settled(): Promise<void> {
    if (this.syncing === undefined && this.unsynced.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  private schedule(dueAt: number, thisTurn: boolean): void {
    if (thisTurn) {
      if (this.scheduled) return;
      this.scheduled = true;
      this.scheduledAt = performance.now();
      setImmediate(() => {
        this.scheduled = false;
        this.commitDue();
      });
      return;
    }
    if (dueAt >= this.timerAt) return;
    this.cancelTimer();
    this.timerAt = dueAt;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.timerAt = Number.POSITIVE_INFINITY;
      this.commitDue();
    }, Math.max(0, dueAt - performance.now()));
  }

  /** Commit the writes that may go now; the held ones keep waiting, with a timer for the earliest deadline. */
  private commitDue(now = performance.now()): void {
    const horizon = now + RIDE_ALONG_MS;
    const due: Pending[] = [];
    const later: Pending[] = [];
    let next = Number.POSITIVE_INFINITY;
    for (const item of this.pending) {
      if (item.early || item.dueAt <= horizon) due.push(item);
      else {
        later.push(item);
        next = Math.min(next, item.dueAt);
      }
    }
    this.pending = later;
    // Only held writes are left waiting.
    if (later.length > 0) this.schedule(next, false);
    this.commit(due);
  }

  private cancelTimer(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = Number.POSITIVE_INFINITY;
  }

  private commit(batch: readonly Pending[]): void {
    if (batch.length === 0) return;
    const after: Array<() => void> = [];
    let changed: boolean;
    try {
      changed = this.transact(() => {
        for (const item of batch) {
          try {
            after.push(item.run());
          } catch (error) {
            // The units after it would run outside any transaction, and the commit would fail for want of one.
            if (!this.stillOpen()) throw error;
            after.push(() => item.failed(error));
          }
        }
      });
    } catch (error) {
      // The commit itself failed: nothing in the batch is stored.
      for (const item of batch) item.failed(error);
      return;
    }
    if (this.syncCommitted === undefined) {
      settleAll({ batch, after });
      return;
    }
    if (!changed) {
      this.settleUnchanged({ batch, after });
      return;
    }
    this.unsynced.push({ batch, after });
    if (this.syncing === undefined) this.startSync(this.syncCommitted);
  }

  /**
   * A commit that changed nothing (a grid step whose envelopes were all acked in time, an ACK of an unknown id) has
   * nothing to flush. But its writers may have read what earlier commits wrote and no flush has covered yet, so it
   * settles with the flush those wait for, or at once if none waits.
   */
  private settleUnchanged(commit: Committed): void {
    // Waiting commits make the next sync certain: the first of them changed something.
    if (this.unsynced.length > 0) this.unsynced.push(commit);
    else if (this.syncing !== undefined) this.syncing.push(commit);
    else settleAll(commit);
  }

  /** One sync for every commit made so far; those made while it runs wait for the next. */
  private startSync(syncCommitted: SyncCommitted): void {
    const covered = this.unsynced;
    this.unsynced = [];
    this.syncing = covered;
    syncCommitted((error) => {
      try {
        // Still syncing while the covered writes settle: a commit one of them makes waits for the next sync, or, if it
        // changed nothing, joins this one's (for...of reaches it).
        for (const commit of covered) {
          if (error === undefined) settleAll(commit);
          // Visible, but maybe not on disk: each writer hears of it (a sender retries, and is answered as a duplicate).
          else for (const item of commit.batch) item.failed(error);
        }
      } finally {
        // Even if a writer's callback threw: later commits must not wait for a sync that never starts.
        this.syncing = undefined;
        if (this.unsynced.length > 0) this.startSync(syncCommitted);
        else for (const resolve of this.idle.splice(0)) resolve();
      }
    });
  }
}

/** Run a durable commit's `then`s in submission order; one that throws is reported to its own write. */
function settleAll({ batch, after }: Committed): void {
  after.forEach((settle, index) => {
    try {
      settle();
    } catch (error) {
      batch[index]?.failed(error);
    }
  });
}
