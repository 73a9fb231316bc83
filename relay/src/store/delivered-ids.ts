import type Database from 'better-sqlite3-multiple-ciphers';

interface Delivered {
  readonly recipient: string;
  readonly messageId: Uint8Array;
  readonly ackedAt: number;
}

/** Delivered ids kept in memory unless the relay is told otherwise (about 130 bytes each). */
export const DEFAULT_MAX_DELIVERED_IDS = 500_000;

/** Past this many ids waiting, the next add writes them all at once. */
const MAX_PENDING = 4096;

/** Ids appended per INSERT statement: one call into SQLite per row was half the cost of the append. */
const ROWS_PER_INSERT = 32;

/** One string per (recipient, id): the map key. Each id byte is one character (a message id is 16 bytes). */
function keyOf(recipient: string, messageId: Uint8Array): string {
  return `${recipient}\u0000${String.fromCharCode(...messageId)}`;
}

/**
 * The ids of acked envelopes, remembered for a window so a late retry of one is dropped as a duplicate (a SEND whose
 * OK was lost is retried when its sender reconnects). Older ones are forgotten: a retry of one is delivered again, and
 * the recipient's client drops it by its message id.
 * - In memory: every id in the window, newest last, up to maxIds (the oldest go first). Every SEND asks, so the answer
 *   never reads the database. Loaded on the first question, so the admin tool, which never asks, never pays for it.
 * - On disk: an append-only log in ack order, so a restart remembers them. Ids gather in memory and are appended in
 *   batches (the relay flushes every 100 ms, at shutdown, and here past MAX_PENDING); a crash loses at most the last.
 *   Appending keeps the cost of an id flat however long the log grows, where an index by id made each one a write at
 *   a random page of an ever larger tree.
 */
export class DeliveredIds {
  /** key → ackedAt, in the order they were added; undefined until first asked. */
  private remembered: Map<string, number> | undefined;
  private pending: Delivered[] = [];
  private readonly appendAll: (batch: readonly Delivered[]) => void;
  private readonly forgetLogged: Database.Statement<[number]>;

  constructor(
    private readonly db: Database.Database,
    private readonly maxIds: number,
  ) {
    const insert = (rows: number): Database.Statement<unknown[]> =>
      db.prepare(`INSERT OR IGNORE INTO delivered_log (acked_at, recipient, message_id) VALUES ${Array<string>(rows).fill('(?, ?, ?)').join(', ')}`);
    const appendOne = insert(1);
    const appendMany = insert(ROWS_PER_INSERT);
    const values = new Array<unknown>(3 * ROWS_PER_INSERT);
    this.appendAll = db.transaction((batch: readonly Delivered[]) => {
      let i = 0;
      for (; i + ROWS_PER_INSERT <= batch.length; i += ROWS_PER_INSERT) {
        for (let row = 0; row < ROWS_PER_INSERT; row++) {
          const item = batch[i + row] as Delivered;
          values[3 * row] = item.ackedAt;
          values[3 * row + 1] = item.recipient;
          values[3 * row + 2] = item.messageId;
        }
        appendMany.run(values);
      }
      for (; i < batch.length; i++) {
        const item = batch[i] as Delivered;
        appendOne.run(item.ackedAt, item.recipient, item.messageId);
      }
    });
    this.forgetLogged = db.prepare<[number]>('DELETE FROM delivered_log WHERE acked_at < ?');
  }

  add(recipient: string, messageId: Uint8Array, ackedAt: number): void {
    // A copy: the id may be a view into a whole received frame, which it would keep alive until the next write.
    this.pending.push({ recipient, messageId: messageId.slice(), ackedAt });
    if (this.remembered !== undefined) this.remember(this.remembered, keyOf(recipient, messageId), ackedAt);
    if (this.pending.length >= MAX_PENDING) this.flush();
  }

  has(recipient: string, messageId: Uint8Array): boolean {
    return this.loaded().has(keyOf(recipient, messageId));
  }

  /** Append every waiting id to the log; inside the caller's transaction if there is one. */
  flush(): void {
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    this.appendAll(batch);
  }

  /** Forget the ids acked before `before`, in memory and in the log. */
  forgetBefore(before: number): void {
    this.forgetLogged.run(before);
    const remembered = this.remembered;
    if (remembered === undefined) return;
    for (const [key, ackedAt] of remembered) {
      if (ackedAt >= before) break;
      remembered.delete(key);
    }
  }

  get size(): number {
    return this.loaded().size;
  }

  private remember(remembered: Map<string, number>, key: string, ackedAt: number): void {
    remembered.set(key, ackedAt);
    // The oldest first: a Map iterates in insertion order.
    if (remembered.size > this.maxIds) remembered.delete(remembered.keys().next().value as string);
  }

  /** The newest maxIds of the log, then the ids not yet written, oldest first. */
  private loaded(): Map<string, number> {
    if (this.remembered !== undefined) return this.remembered;
    const remembered = new Map<string, number>();
    const newest = this.db
      .prepare<[number], [number, string, Buffer]>('SELECT acked_at, recipient, message_id FROM delivered_log ORDER BY acked_at DESC LIMIT ?')
      .raw()
      .all(this.maxIds);
    for (let i = newest.length - 1; i >= 0; i--) {
      const [ackedAt, recipient, messageId] = newest[i] as [number, string, Buffer];
      remembered.set(keyOf(recipient, messageId), ackedAt);
    }
    for (const item of this.pending) this.remember(remembered, keyOf(item.recipient, item.messageId), item.ackedAt);
    this.remembered = remembered;
    return remembered;
  }
}
