import { decodeInitialHeader, encodeInitialHeader } from '../crypto/initial-header-codec.js';
import { decodeRatchetState, encodeRatchetState } from '../crypto/ratchet-codec.js';
import type { RatchetState } from '../crypto/ratchet-state.js';
import type { InitialHeader } from '../crypto/pqxdh.js';
import type { Db } from './db.js';

export interface SessionRecord {
  readonly contact: string;
  readonly state: RatchetState;
  /** Attached to every send until the peer's first reply decrypts (initiator only). */
  readonly initialHeader: InitialHeader | null;
  /** The initiator's ephemeral key: an initial message with this key belongs to this session. */
  readonly baseKey: Uint8Array;
}

interface SessionRow {
  contact: string;
  state: Uint8Array;
  initial_header: Uint8Array | null;
  base_key: Uint8Array;
}

/** Replaced sessions kept per contact for messages still in flight on them. */
export const MAX_ARCHIVED_SESSIONS = 3;

const fromRow = (row: SessionRow): SessionRecord => ({
  contact: row.contact,
  state: decodeRatchetState(row.state),
  initialHeader: row.initial_header === null ? null : (decodeInitialHeader(row.initial_header) ?? null),
  baseKey: Uint8Array.from(row.base_key),
});

/** The current Double Ratchet session per contact (plus a few replaced ones). Callers write it in the transaction that stores its message. */
export class SessionsRepository {
  constructor(private readonly db: Db) {}

  get(contact: string): SessionRecord | undefined {
    const row = this.db.prepare<[string], SessionRow>('SELECT contact, state, initial_header, base_key FROM sessions WHERE contact = ?').get(contact);
    return row === undefined ? undefined : fromRow(row);
  }

  /** Replaced sessions with this contact, newest first. */
  archived(contact: string): SessionRecord[] {
    return this.db
      .prepare<[string], SessionRow>('SELECT contact, state, initial_header, base_key FROM sessions_archive WHERE contact = ? ORDER BY archived_at DESC, rowid DESC')
      .all(contact)
      .map(fromRow);
  }

  /** Keep a replaced session for decrypting; the oldest beyond MAX_ARCHIVED_SESSIONS go. */
  archive(record: SessionRecord, now: number): void {
    this.db
      .prepare('INSERT OR REPLACE INTO sessions_archive (contact, base_key, state, initial_header, archived_at) VALUES (?, ?, ?, ?, ?)')
      .run(record.contact, record.baseKey, encodeRatchetState(record.state), record.initialHeader === null ? null : encodeInitialHeader(record.initialHeader), now);
    this.db
      .prepare(
        `DELETE FROM sessions_archive WHERE contact = ? AND rowid NOT IN
           (SELECT rowid FROM sessions_archive WHERE contact = ? ORDER BY archived_at DESC, rowid DESC LIMIT ?)`,
      )
      .run(record.contact, record.contact, MAX_ARCHIVED_SESSIONS);
  }

  unarchive(contact: string, baseKey: Uint8Array): void {
    this.db.prepare('DELETE FROM sessions_archive WHERE contact = ? AND base_key = ?').run(contact, baseKey);
  }

  put(record: SessionRecord, now: number): void {
    this.db
      .prepare(
        `INSERT INTO sessions (contact, state, initial_header, base_key, updated_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (contact) DO UPDATE SET state = excluded.state, initial_header = excluded.initial_header,
           base_key = excluded.base_key, updated_at = excluded.updated_at`,
      )
      .run(record.contact, encodeRatchetState(record.state), record.initialHeader === null ? null : encodeInitialHeader(record.initialHeader), record.baseKey, now);
  }

  /** End every session with a contact, current and archived. */
  delete(contact: string): void {
    this.db.prepare('DELETE FROM sessions WHERE contact = ?').run(contact);
    this.db.prepare('DELETE FROM sessions_archive WHERE contact = ?').run(contact);
  }
}
