import type { OneTimePrekeyRecord, PqPrekeyRecord, SignedPrekeyRecord } from '../crypto/prekeys.js';
import type { Db } from './db.js';

interface SignedRow {
  id: number;
  public_key: Uint8Array;
  secret_key: Uint8Array;
  signature: Uint8Array;
  created_at: number;
  retired_at: number | null;
}
interface OneTimeRow {
  id: number;
  public_key: Uint8Array;
  secret_key: Uint8Array;
}
interface PqRow extends OneTimeRow {
  signature: Uint8Array;
  last_resort: number;
}

const copy = (bytes: Uint8Array): Uint8Array => Uint8Array.from(bytes);

export interface StoredSignedPrekey extends SignedPrekeyRecord {
  readonly createdAt: number;
  readonly retiredAt: number | null;
}

/** This device's private prekeys, inside the encrypted database. */
export class PrekeysRepository {
  constructor(private readonly db: Db) {}

  /** The next free id across every kind, so an id names one key only. */
  nextId(): number {
    const row = this.db
      .prepare<[], { id: number | null }>(
        'SELECT max(id) AS id FROM (SELECT max(id) AS id FROM prekeys_signed UNION ALL SELECT max(id) FROM prekeys_one_time UNION ALL SELECT max(id) FROM prekeys_pq)',
      )
      .get();
    return (row?.id ?? 0) + 1;
  }

  addSigned(record: SignedPrekeyRecord, now: number): void {
    this.db
      .prepare('INSERT INTO prekeys_signed (id, public_key, secret_key, signature, created_at) VALUES (?, ?, ?, ?, ?)')
      .run(record.id, record.keyPair.publicKey, record.keyPair.secretKey, record.signature, now);
  }

  /** The signed prekey currently published (the newest one not retired). */
  currentSigned(): StoredSignedPrekey | undefined {
    const row = this.db.prepare<[], SignedRow>('SELECT * FROM prekeys_signed WHERE retired_at IS NULL ORDER BY id DESC LIMIT 1').get();
    return row === undefined ? undefined : fromSignedRow(row);
  }

  /** Any signed prekey still held, current or within its grace period. */
  signed(id: number): StoredSignedPrekey | undefined {
    const row = this.db.prepare<[number], SignedRow>('SELECT * FROM prekeys_signed WHERE id = ?').get(id);
    return row === undefined ? undefined : fromSignedRow(row);
  }

  /** Retire every signed prekey but `keep`; drop retired ones whose grace period ended. */
  retireSignedExcept(keep: number, now: number, graceMs: number): void {
    this.db.prepare('UPDATE prekeys_signed SET retired_at = ? WHERE id != ? AND retired_at IS NULL').run(now, keep);
    this.db.prepare('DELETE FROM prekeys_signed WHERE retired_at IS NOT NULL AND retired_at < ?').run(now - graceMs);
  }

  addOneTime(records: readonly OneTimePrekeyRecord[], now: number): void {
    const insert = this.db.prepare('INSERT INTO prekeys_one_time (id, public_key, secret_key, created_at) VALUES (?, ?, ?, ?)');
    for (const record of records) insert.run(record.id, record.keyPair.publicKey, record.keyPair.secretKey, now);
  }

  oneTime(id: number): OneTimePrekeyRecord | undefined {
    const row = this.db.prepare<[number], OneTimeRow>('SELECT id, public_key, secret_key FROM prekeys_one_time WHERE id = ?').get(id);
    return row === undefined ? undefined : { id: row.id, keyPair: { publicKey: copy(row.public_key), secretKey: copy(row.secret_key) } };
  }

  deleteOneTime(id: number): void {
    this.db.prepare('DELETE FROM prekeys_one_time WHERE id = ?').run(id);
  }

  addPq(records: readonly PqPrekeyRecord[], now: number): void {
    const insert = this.db.prepare('INSERT INTO prekeys_pq (id, public_key, secret_key, signature, last_resort, created_at) VALUES (?, ?, ?, ?, ?, ?)');
    for (const record of records) insert.run(record.id, record.keyPair.publicKey, record.keyPair.secretKey, record.signature, record.lastResort ? 1 : 0, now);
  }

  pq(id: number): PqPrekeyRecord | undefined {
    const row = this.db.prepare<[number], PqRow>('SELECT id, public_key, secret_key, signature, last_resort FROM prekeys_pq WHERE id = ?').get(id);
    if (row === undefined) return undefined;
    return { id: row.id, keyPair: { publicKey: copy(row.public_key), secretKey: copy(row.secret_key) }, signature: copy(row.signature), lastResort: row.last_resort === 1 };
  }

  /** One-time PQ keys go once used; the last-resort key stays. */
  deletePqIfOneTime(id: number): void {
    this.db.prepare('DELETE FROM prekeys_pq WHERE id = ? AND last_resort = 0').run(id);
  }

  hasLastResortPq(): boolean {
    return this.db.prepare('SELECT 1 FROM prekeys_pq WHERE last_resort = 1').get() !== undefined;
  }

  counts(): { oneTime: number; pqOneTime: number } {
    const count = (sql: string): number => this.db.prepare<[], number>(sql).pluck().get() ?? 0;
    return { oneTime: count('SELECT count(*) FROM prekeys_one_time'), pqOneTime: count('SELECT count(*) FROM prekeys_pq WHERE last_resort = 0') };
  }
}

function fromSignedRow(row: SignedRow): StoredSignedPrekey {
  return {
    id: row.id,
    keyPair: { publicKey: copy(row.public_key), secretKey: copy(row.secret_key) },
    signature: copy(row.signature),
    createdAt: row.created_at,
    retiredAt: row.retired_at,
  };
}
