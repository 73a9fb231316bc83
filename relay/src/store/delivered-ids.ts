import type Database from 'better-sqlite3-multiple-ciphers';
import { envelopeKey, keyMessageId, keyRecipient, type EnvelopeKey } from './envelope-key.js';
import { RecentKeys } from './recent-keys.js';

/** Ids acked since the last append, as their keys (already held by the map) and ack times: no object per id. */
interface Pending {
  readonly keys: EnvelopeKey[];
  readonly ackedAt: number[];
}

/** Delivered ids kept in memory unless the relay is told otherwise (about 175 bytes each once full: 90 MB at the default). */
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
 *   a random page of an ever larger tree.
 */
export class DeliveredIds {
  /** Every id in the window, by key, oldest first. */
  private readonly remembered: RecentKeys<EnvelopeKey>;
  private pending: Pending = { keys: [], ackedAt: [] };
  private readonly appendAll: (batch: Pending) => void;
  private readonly forgetLogged: Database.Statement<[number]>;

  constructor(
    db: Database.Database,
    maxIds: number,
  ) {
    this.remembered = new RecentKeys(maxIds);
    const insert = (rows: number): Database.Statement<unknown[]> =>
      db.prepare(`INSERT OR IGNORE INTO delivered_log (acked_at, recipient, message_id) VALUES ${Array<string>(rows).fill('(?, ?, ?)').join(', ')}`);
    const appendOne = insert(1);
    const appendMany = insert(ROWS_PER_INSERT);
    const values = new Array<unknown>(3 * ROWS_PER_INSERT);
    this.appendAll = db.transaction(({ keys, ackedAt }: Pending) => {
      let i = 0;
      for (; i + ROWS_PER_INSERT <= keys.length; i += ROWS_PER_INSERT) {
        for (let row = 0; row < ROWS_PER_INSERT; row++) {
          const key = keys[i + row] as EnvelopeKey;
          values[3 * row] = ackedAt[i + row];
          values[3 * row + 1] = keyRecipient(key);
          values[3 * row + 2] = keyMessageId(key);
        }
        appendMany.run(values);
      }
      for (; i < keys.length; i++) {
        const key = keys[i] as EnvelopeKey;
        appendOne.run(ackedAt[i], keyRecipient(key), keyMessageId(key));
      }
    });
    this.forgetLogged = db.prepare<[number]>('DELETE FROM delivered_log WHERE acked_at < ?');
    // The newest maxIds of the log, oldest first, read row by row.
    const newest = db
      .prepare<[number], [number, string, Buffer]>(
        'SELECT acked_at, recipient, message_id FROM (SELECT * FROM delivered_log ORDER BY acked_at DESC LIMIT ?) ORDER BY acked_at',
      )
      .raw();
    for (const [ackedAt, recipient, messageId] of newest.iterate(maxIds)) this.remembered.add(envelopeKey(recipient, messageId), ackedAt);
  }

  add(recipient: string, messageId: Uint8Array, ackedAt: number): void {
    this.addKey(envelopeKey(recipient, messageId), ackedAt);
  }

  /** add(), by the envelope's key: the string its other lookups used, whose hash is already known. */
  addKey(key: EnvelopeKey, ackedAt: number): void {
    // The key, not the id: the id may be a view into a whole received frame, and an object per id would outlive
    // several young-generation collections before the append.
    this.pending.keys.push(key);
    this.pending.ackedAt.push(ackedAt);
    this.remembered.add(key, ackedAt);
    if (this.pending.keys.length >= MAX_PENDING) this.flush();
  }

  has(recipient: string, messageId: Uint8Array): boolean {
    return this.hasKey(envelopeKey(recipient, messageId));
  }

  hasKey(key: EnvelopeKey): boolean {
    return this.remembered.has(key);
  }

  /** Append every waiting id to the log; inside the caller's transaction if there is one. */
  flush(): void {
    if (this.pending.keys.length === 0) return;
    const batch = this.pending;
    this.pending = { keys: [], ackedAt: [] };
    this.appendAll(batch);
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
