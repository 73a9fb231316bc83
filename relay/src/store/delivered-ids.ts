import type Database from 'better-sqlite3-multiple-ciphers';
import { MESSAGE_ID_BYTES } from '../../protocol/limits.js';
import { DeliveredIdTable } from './delivered-id-table.js';

/** Delivered ids kept in memory unless the relay is told otherwise (about 40 bytes each: 20 MB at the default, once full). */
export const DEFAULT_MAX_DELIVERED_IDS = 500_000;

/** Past this many ids waiting, the next add writes them all at once. */
const MAX_PENDING = 4096;

/** Ids appended per INSERT statement: one call into SQLite per row was half the cost of the append. */
const ROWS_PER_INSERT = 32;

/**
 * The ids of acked envelopes, remembered for a window so a late retry of one is dropped as a duplicate (a SEND whose
 * OK was lost is retried when its sender reconnects). Older ones are forgotten: a retry of one is delivered again, and
 * the recipient's client drops it by its message id.
 * - In memory: every id in the window, newest last, up to maxIds (the oldest go first). Every SEND asks, so the answer
 *   never reads the database. Loaded when the relay opens its store, before it takes connections.
 * - On disk: an append-only log in ack order, so a restart remembers them. Ids gather in memory and are appended in
 *   batches (the relay flushes every 100 ms, at shutdown, and here past MAX_PENDING); a crash loses at most the last.
 *   Appending keeps the cost of an id flat however long the log grows, where an index by id made each one a write at
 *   a random page of an ever larger tree. The ids waiting are the table's newest, so they need no list of their own.
 */
export class DeliveredIds {
  /** Every id in the window, oldest first. */
  private readonly remembered: DeliveredIdTable;
  /** How many of the newest ids are not in the log yet. */
  private unlogged = 0;
  /** Ids appended inside a transaction still open: should it roll back (a full disk), they wait for the next append again. */
  private uncommitted = 0;
  /** Append the table's entries from `first` on, up to its newest. */
  private readonly appendAll: (first: number) => void;
  private readonly forgetLogged: Database.Statement<[number]>;

  constructor(
    private readonly db: Database.Database,
    maxIds: number,
  ) {
    this.remembered = new DeliveredIdTable(maxIds);
    const insert = (rows: number): Database.Statement<unknown[]> =>
      db.prepare(`INSERT OR IGNORE INTO delivered_log (acked_at, recipient, message_id) VALUES ${Array<string>(rows).fill('(?, ?, ?)').join(', ')}`);
    const appendOne = insert(1);
    const appendMany = insert(ROWS_PER_INSERT);
    const values = new Array<unknown>(3 * ROWS_PER_INSERT);
    const table = this.remembered;
    this.appendAll = db.transaction((first: number) => {
      const size = table.size;
      // One buffer for every id of the batch, each bound as a view of it.
      const ids = Buffer.allocUnsafe((size - first) * MESSAGE_ID_BYTES);
      const row = (age: number, into: unknown[], at: number): void => {
        const offset = (age - first) * MESSAGE_ID_BYTES;
        table.copyIdAt(age, ids, offset);
        into[at] = table.ackedAtAt(age);
        into[at + 1] = table.recipientAt(age);
        into[at + 2] = ids.subarray(offset, offset + MESSAGE_ID_BYTES);
      };
      let age = first;
      for (; age + ROWS_PER_INSERT <= size; age += ROWS_PER_INSERT) {
        for (let r = 0; r < ROWS_PER_INSERT; r++) row(age + r, values, 3 * r);
        appendMany.run(values);
      }
      for (; age < size; age++) {
        row(age, values, 0);
        appendOne.run(values[0], values[1], values[2]);
      }
    });
    this.forgetLogged = db.prepare<[number]>('DELETE FROM delivered_log WHERE acked_at < ?');
    // The newest maxIds of the log, oldest first, read row by row. Every id was checked for its size when it came.
    const newest = db
      .prepare<[number], [number, string, Buffer]>(
        'SELECT acked_at, recipient, message_id FROM (SELECT * FROM delivered_log ORDER BY acked_at DESC LIMIT ?) ORDER BY acked_at',
      )
      .raw();
    for (const [ackedAt, recipient, messageId] of newest.iterate(maxIds)) {
      if (messageId.length === MESSAGE_ID_BYTES) this.remembered.add(recipient, messageId, ackedAt);
    }
  }

  add(recipient: string, messageId: Uint8Array, ackedAt: number): void {
    // One already known is in the log, or waiting for it, already.
    if (!this.remembered.add(recipient, messageId, ackedAt)) return;
    this.unlogged += 1;
    if (this.unlogged >= MAX_PENDING) this.flush();
  }

  has(recipient: string, messageId: Uint8Array): boolean {
    return this.remembered.has(recipient, messageId);
  }

  /** Append every waiting id to the log; inside the caller's transaction if there is one. */
  flush(): void {
    // Waiting ids the window has already let go of need no row: a restart would not load them.
    const size = this.remembered.size;
    const waiting = Math.min(this.unlogged, size);
    if (waiting > 0) this.appendAll(size - waiting);
    this.unlogged = 0;
    if (this.db.inTransaction) this.uncommitted += waiting;
  }

  /** The transaction around the latest appends committed: those ids are in the log. */
  committed(): void {
    this.uncommitted = 0;
  }

  /** The transaction around the latest appends rolled back: those ids are the newest still, and wait for the next append. */
  rolledBack(): void {
    this.unlogged += this.uncommitted;
    this.uncommitted = 0;
  }

  /** Forget the ids acked before `before`, in memory and in the log. */
  forgetBefore(before: number): void {
    this.forgetLogged.run(before);
    this.remembered.forgetBefore(before);
  }

  get size(): number {
    return this.remembered.size;
  }
}
