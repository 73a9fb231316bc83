/** An outbox whose OKs wait for the pacer. */
export interface PacedOks {
  /** Write the OKs owed now (those a later frame already took ahead of it are gone). */
  flushPacedOks(): void;
}

/** Outboxes flushed per turn: under a millisecond of writes at the costs profiled, between which the relay reads its sockets again. */
export const OUTBOXES_PER_SLICE = 16;

/** How late a slice may run before runOverdue() writes it in its place. */
export const OVERDUE_MS = 1;

function slice(pacer: OkPacer): void {
  pacer.runSlice();
}

/**
 * OKs that leave on their own (no other frame for their socket in that turn) are written a slice of outboxes per
 * event-loop turn, not all at once. A commit settles the SENDs of every sender of its grid step together, and writing
 * a hundred senders' OKs in one go held up, for several milliseconds, the SENDs that arrived meanwhile and their
 * pushes to recipients. An OK only tells its sender the envelope is safe; a push is what its recipient waits for.
 */
export class OkPacer {
  private waiting: PacedOks[] = [];
  private next = 0;
  /** A slice is set for the next turn's immediates. */
  private scheduled = false;
  /** When it was set, or when runOverdue() last wrote one (performance.now() time). */
  private scheduledAt = 0;

  constructor(private readonly perSlice = OUTBOXES_PER_SLICE) {}

  /** Flush this outbox's OKs in a coming slice (once per add: the outbox tracks whether it is waiting). */
  add(outbox: PacedOks): void {
    this.waiting.push(outbox);
    if (this.scheduled) return;
    this.scheduled = true;
    this.scheduledAt = performance.now();
    setImmediate(slice, this);
  }

  runSlice(): void {
    this.writeSlice();
    if (this.waiting.length === 0) {
      this.scheduled = false;
      return;
    }
    // After the sockets' reads: setImmediate callbacks run once the poll phase has handled them.
    this.scheduledAt = performance.now();
    setImmediate(slice, this);
  }

  /**
   * Write a slice now if the next one is late: a relay flooded by more than a thousand busy sockets stays in libuv's
   * poll phase, where immediates do not run, for up to 48 polls of 1,024 sockets. Called from the read path, which runs there.
   */
  runOverdue(now: number): void {
    if (!this.scheduled || now < this.scheduledAt + OVERDUE_MS) return;
    // The immediate still runs later; until then, the next overdue slice is measured from this one.
    this.scheduledAt = now;
    this.writeSlice();
  }

  private writeSlice(): void {
    const waiting = this.waiting;
    const end = Math.min(this.next + this.perSlice, waiting.length);
    while (this.next < end) (waiting[this.next++] as PacedOks).flushPacedOks();
    if (this.next < waiting.length) return;
    this.waiting = [];
    this.next = 0;
  }
}
