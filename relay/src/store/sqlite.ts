import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3-multiple-ciphers';
import { migrate } from './migrations.js';
import type { EnqueueResult, NewEnvelope, QueueCaps, QueuedEnvelope, QueueStore, RelayStore, UserRecord, UserStore } from './ports.js';

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
  expires_at: number | null;
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
  const usage = db.prepare<[string], { count: number; bytes: number }>(
    'SELECT count(*) AS count, coalesce(sum(length(envelope)), 0) AS bytes FROM queue WHERE recipient = ?',
  );
  const total = db.prepare<[], number>('SELECT count(*) FROM queue').pluck();
  const insert = db.prepare<[string, Uint8Array, Uint8Array, number, number | null]>(
    'INSERT INTO queue (recipient, message_id, envelope, received_at, expires_at) VALUES (?, ?, ?, ?, ?)',
  );
  const page = db.prepare<[string, number, number, number], QueueRow>(
    `SELECT seq, message_id, envelope, received_at, expires_at FROM queue
     WHERE recipient = ? AND seq > ? AND (expires_at IS NULL OR expires_at > ?) ORDER BY seq LIMIT ?`,
  );
  const remove = db.prepare<[string, Uint8Array], number>('DELETE FROM queue WHERE recipient = ? AND message_id = ? RETURNING received_at').pluck();
  const purge = db.prepare<[number, number]>('DELETE FROM queue WHERE received_at < ? OR expires_at <= ?');

  const enqueue = db.transaction((recipient: string, item: NewEnvelope, caps: QueueCaps): EnqueueResult => {
    if (exists.get(recipient, item.messageId) !== undefined) return 'duplicate';
    const used = usage.get(recipient) ?? { count: 0, bytes: 0 };
    if (used.count >= caps.count || used.bytes + item.envelope.length > caps.bytes) return 'full';
    insert.run(recipient, item.messageId, item.envelope, item.receivedAt, item.expiresAt);
    return 'queued';
  });

  return {
    enqueue: (recipient, item, caps) => enqueue(recipient, item, caps),
    page(recipient, afterSeq, limit, now): QueuedEnvelope[] {
      return page.all(recipient, afterSeq, now, limit).map((row) => ({
        seq: row.seq,
        messageId: row.message_id,
        envelope: row.envelope,
        receivedAt: row.received_at,
        expiresAt: row.expires_at,
      }));
    },
    ack: (recipient, messageId) => remove.get(recipient, messageId),
    depth: (recipient) => count.get(recipient) ?? 0,
    totalDepth: () => total.get() ?? 0,
    purge: (receivedBefore, now) => purge.run(receivedBefore, now).changes,
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
    return { users: sqliteUsers(db), queue: sqliteQueue(db), close: () => db.close() };
  } catch (error) {
    db.close();
    throw error;
  }
}
