import type { Contact } from '../../shared/domain.js';
import { toHex } from '../crypto/bytes.js';
import type { Db } from './db.js';

export interface ContactRecord {
  username: string;
  identityKey: Uint8Array;
  agreementKey: Uint8Array;
  addedAt: number;
}

interface ContactRow {
  username: string;
  identity_key: Uint8Array;
  agreement_key: Uint8Array;
  added_at: number;
}

const fromRow = (row: ContactRow): ContactRecord => ({
  username: row.username,
  identityKey: Uint8Array.from(row.identity_key),
  agreementKey: Uint8Array.from(row.agreement_key),
  addedAt: row.added_at,
});

/** The contract's view of a contact: public key as hex, nothing else. */
export function toContact(record: ContactRecord): Contact {
  return { username: record.username, identityKey: toHex(record.identityKey), addedAt: record.addedAt };
}

export class ContactsRepository {
  constructor(private readonly db: Db) {}

  get(username: string): ContactRecord | undefined {
    const row = this.db.prepare<[string], ContactRow>('SELECT * FROM contacts WHERE username = ?').get(username);
    return row === undefined ? undefined : fromRow(row);
  }

  list(): ContactRecord[] {
    return this.db.prepare<[], ContactRow>('SELECT * FROM contacts ORDER BY username').all().map(fromRow);
  }

  /** Insert unless the username is already a contact; true when a row was added. */
  insert(record: ContactRecord): boolean {
    const result = this.db
      .prepare('INSERT OR IGNORE INTO contacts (username, identity_key, agreement_key, added_at) VALUES (?, ?, ?, ?)')
      .run(record.username, record.identityKey, record.agreementKey, record.addedAt);
    return result.changes > 0;
  }
}
