import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3-multiple-ciphers';
import { migrate } from './migrations.js';
import { sqlitePrekeys } from './prekeys-sqlite.js';
import type { EnqueueResult, NewEnvelope, QueuedEnvelope, QueueStore, RelayStore, UserRecord, UserStore } from './ports.js';

export const DATABASE_FILE = 'relay.sqlite';

interface UserRow {
  username: string;
  identity_key: Buffer;
  agreement_key: Buffer;
  agreement_sig: Buffer;
  registered_at: number;
}

interface QueueRow {
  seq: number;
  message_id: Buffer;
  envelope: Buffer;
  received_at: number;
}

function sqliteUsers(db: Database.Database): UserStore {
  const select = db.prepare<[string], UserRow>(
    'SELECT username, identity_key, agreement_key, agreement_sig, registered_at FROM users WHERE username = ?',
  );
  const insert = db.prepare<[string, Uint8Array, Uint8Array, Uint8Array, number]>(
    'INSERT INTO users (username, identity_key, agreement_key, agreement_sig, registered_at) VALUES (?, ?, ?, ?, ?)',
  );
  return {
    find(username) {
      const row = select.get(username);
      if (row === undefined) return undefined;
      return {
        username: row.username,
        identityKey: row.identity_key,
        agreementKey: row.agreement_key,
        agreementSig: row.agreement_sig,
        registeredAt: row.registered_at,
      };
    },
    create(user: UserRecord) {
      insert.run(user.username, user.identityKey, user.agreementKey, user.agreementSig, user.registeredAt);
    },
  };
}

function sqliteQueue(db: Database.Database): QueueStore {
  const exists = db.prepare<[string, Uint8Array], number>('SELECT 1 FROM queue WHERE recipient = ? AND message_id = ?').pluck();
  const count = db.prepare<[string], number>('SELECT count(*) FROM queue WHERE recipient = ?').pluck();
  const insert = db.prepare<[string, Uint8Array, Uint8Array, number]>(
    'INSERT INTO queue (recipient, message_id, envelope, received_at) VALUES (?, ?, ?, ?)',
  );
  const page = db.prepare<[string, number, number], QueueRow>(
    'SELECT seq, message_id, envelope, received_at FROM queue WHERE recipient = ? AND seq > ? ORDER BY seq LIMIT ?',
  );
  const remove = db.prepare<[string, Uint8Array]>('DELETE FROM queue WHERE recipient = ? AND message_id = ?');

  const enqueue = db.transaction((recipient: string, item: NewEnvelope, limit: number): EnqueueResult => {
    if (exists.get(recipient, item.messageId) !== undefined) return 'duplicate';
    if ((count.get(recipient) ?? 0) >= limit) return 'full';
    insert.run(recipient, item.messageId, item.envelope, item.receivedAt);
    return 'queued';
  });

  return {
    enqueue: (recipient, item, limit) => enqueue(recipient, item, limit),
    page(recipient, afterSeq, limit): QueuedEnvelope[] {
      return page.all(recipient, afterSeq, limit).map((row) => ({
        seq: row.seq,
        messageId: row.message_id,
        envelope: row.envelope,
        receivedAt: row.received_at,
      }));
    },
    ack: (recipient, messageId) => remove.run(recipient, messageId).changes > 0,
    depth: (recipient) => count.get(recipient) ?? 0,
  };
}

/** Open (creating if needed) the relay database in dataDir and migrate it. Holds only public keys and ciphertext, so it is not encrypted. */
export function openSqliteStore(dataDir: string): RelayStore {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const db = new Database(join(dataDir, DATABASE_FILE));
  try {
    db.pragma('journal_mode = WAL');
    // FULL: an OK for a SEND promises the envelope survives a power cut, not just a crash.
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
    migrate(db);
    return { users: sqliteUsers(db), queue: sqliteQueue(db), prekeys: sqlitePrekeys(db), close: () => db.close() };
  } catch (error) {
    db.close();
    throw error;
  }
}
