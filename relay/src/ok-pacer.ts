/** An outbox whose OKs wait for the pacer. */
export interface PacedOks {
  /** Write the OKs owed now (those a later frame already took ahead of it are gone). */
  flushPacedOks(): void;
}

/** Outboxes flushed per turn: under a millisecond of writes at the costs profiled, between which the relay reads its sockets again. */
export const OUTBOXES_PER_SLICE = 16;

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
  private scheduled = false;

  constructor(private readonly perSlice = OUTBOXES_PER_SLICE) {}

  /** Flush this outbox's OKs in a coming slice (once per add: the outbox tracks whether it is waiting). */
  add(outbox: PacedOks): void {
    this.waiting.push(outbox);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(slice, this);
  }

  runSlice(): void {
    const waiting = this.waiting;
    const end = Math.min(this.next + this.perSlice, waiting.length);
    while (this.next < end) (waiting[this.next++] as PacedOks).flushPacedOks();
    if (this.next < waiting.length) {
      // After the sockets' reads: setImmediate callbacks run once the poll phase has handled them.
      setImmediate(slice, this);
      return;
    }
    this.waiting = [];
    this.next = 0;
    this.scheduled = false;
  }
}
