import type { Contact } from '../../shared/domain.js';
import { toHex } from '../crypto/bytes.js';
import type { Db } from './db.js';

export interface ContactRecord {
  username: string;
  identityKey: Uint8Array;
  agreementKey: Uint8Array;
  addedAt: number;
  /** The user compared safety numbers and marked this identity key verified. */
  verified?: boolean;
  /** The identity key changed and the user has not acknowledged it yet: sending is held. */
  identityChanged?: boolean;
}

interface ContactRow {
  username: string;
  identity_key: Uint8Array;
  agreement_key: Uint8Array;
  added_at: number;
  verified: number;
  identity_changed: number;
}

const fromRow = (row: ContactRow): ContactRecord => ({
  username: row.username,
  identityKey: Uint8Array.from(row.identity_key),
  agreementKey: Uint8Array.from(row.agreement_key),
  addedAt: row.added_at,
  verified: row.verified === 1,
  identityChanged: row.identity_changed === 1,
});

/** The contract's view of a contact: public key as hex, verification state, nothing secret. */
export function toContact(record: ContactRecord): Contact {
  return {
    username: record.username,
    identityKey: toHex(record.identityKey),
    addedAt: record.addedAt,
    verified: record.verified === true,
    identityChanged: record.identityChanged === true,
  };
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

  byIdentityKey(identityKey: Uint8Array): ContactRecord | undefined {
    const row = this.db.prepare<[Uint8Array], ContactRow>('SELECT * FROM contacts WHERE identity_key = ?').get(identityKey);
    return row === undefined ? undefined : fromRow(row);
  }

  /** A new identity key for a contact: no longer verified, and held until the user acknowledges it. */
  replaceIdentity(username: string, identityKey: Uint8Array, agreementKey: Uint8Array): void {
    this.db
      .prepare('UPDATE contacts SET identity_key = ?, agreement_key = ?, verified = 0, identity_changed = 1 WHERE username = ?')
      .run(identityKey, agreementKey, username);
  }

  setVerified(username: string, verified: boolean): void {
    this.db.prepare('UPDATE contacts SET verified = ? WHERE username = ?').run(verified ? 1 : 0, username);
  }

  acknowledgeIdentity(username: string): void {
    this.db.prepare('UPDATE contacts SET identity_changed = 0 WHERE username = ?').run(username);
  }
}
