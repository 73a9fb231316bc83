import type { StoredIdentity } from '../crypto/identity.js';
import type { Db } from './db.js';

export interface ProfileRecord {
  username: string;
  relayUrl: string;
  identity: StoredIdentity;
  createdAt: number;
}

interface ProfileRow {
  username: string;
  relay_url: string;
  identity_key: Uint8Array;
  identity_secret: Uint8Array;
  agreement_key: Uint8Array;
  agreement_secret: Uint8Array;
  agreement_sig: Uint8Array;
  created_at: number;
}

const bytes = (value: Uint8Array): Uint8Array => Uint8Array.from(value);

/** The one profile row: who this device is, and its private keys (inside the encrypted database only). */
export class ProfileRepository {
  constructor(private readonly db: Db) {}

  get(): ProfileRecord | undefined {
    const row = this.db.prepare<[], ProfileRow>('SELECT * FROM profile WHERE id = 1').get();
    if (row === undefined) return undefined;
    return {
      username: row.username,
      relayUrl: row.relay_url,
      createdAt: row.created_at,
      identity: {
        identityKey: bytes(row.identity_key),
        identitySecret: bytes(row.identity_secret),
        agreementKey: bytes(row.agreement_key),
        agreementSecret: bytes(row.agreement_secret),
        agreementSig: bytes(row.agreement_sig),
      },
    };
  }

  save(record: ProfileRecord): void {
    const { identity } = record;
    this.db
      .prepare(
        `INSERT INTO profile (id, username, relay_url, identity_key, identity_secret, agreement_key, agreement_secret, agreement_sig, created_at)
         VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        record.username,
        record.relayUrl,
        identity.identityKey,
        identity.identitySecret,
        identity.agreementKey,
        identity.agreementSecret,
        identity.agreementSig,
        record.createdAt,
      );
  }
}
