import type { Database } from 'better-sqlite3-multiple-ciphers';

export interface Migration {
  readonly version: number;
  readonly description: string;
  readonly sql: string;
}

/** Append only: a released migration never changes. The database's user_version is the last one applied. */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'users and the envelope queue',
    sql: `
      CREATE TABLE users (
        username      TEXT PRIMARY KEY,
        identity_key  BLOB NOT NULL,
        agreement_key BLOB NOT NULL,
        agreement_sig BLOB NOT NULL,
        registered_at INTEGER NOT NULL
      ) STRICT;
      -- AUTOINCREMENT keeps seq growing after deletes, so seq is arrival order.
      CREATE TABLE queue (
        seq         INTEGER PRIMARY KEY AUTOINCREMENT,
        recipient   TEXT NOT NULL REFERENCES users (username),
        message_id  BLOB NOT NULL,
        envelope    BLOB NOT NULL,
        received_at INTEGER NOT NULL,
        UNIQUE (recipient, message_id)
      ) STRICT;
    `,
  },
  {
    version: 2,
    description: 'per-envelope expiry (disappearing messages) and an index for the age and expiry purge',
    sql: `
      -- NULL: the envelope lives until acked or until the queue's age cap.
      ALTER TABLE queue ADD COLUMN expires_at INTEGER;
      CREATE INDEX queue_received_at ON queue (received_at);
      CREATE INDEX queue_expires_at ON queue (expires_at) WHERE expires_at IS NOT NULL;
    `,
  },
  {
    version: 3,
    description: 'bans, look-alike username skeletons, and invite codes',
    sql: `
      ALTER TABLE users ADD COLUMN banned_at INTEGER;
      ALTER TABLE users ADD COLUMN ban_reason TEXT;
      -- NULL for users registered before this migration; filled in when the store opens.
      ALTER TABLE users ADD COLUMN skeleton TEXT;
      CREATE UNIQUE INDEX users_skeleton ON users (skeleton);
      -- Only a hash of each code is kept: the code itself is shown once, when it is created.
      CREATE TABLE invites (
        id          TEXT PRIMARY KEY,
        code_hash   BLOB NOT NULL UNIQUE,
        max_uses    INTEGER NOT NULL,
        uses        INTEGER NOT NULL DEFAULT 0,
        created_at  INTEGER NOT NULL,
        expires_at  INTEGER,
        revoked_at  INTEGER
      ) STRICT;
    `,
  },
  {
    version: 4,
    description: 'delivery receipts and the memory of delivered message ids',
    sql: `
      -- Set only when the sender asked for a receipt: a keyed hash naming the sender's receipt box, kept until the ack.
      ALTER TABLE queue ADD COLUMN receipt_box BLOB;
      -- Acked message ids, so a late retry of a delivered message is not delivered twice; purged with the queue's age cap.
      CREATE TABLE delivered (
        recipient  TEXT NOT NULL,
        message_id BLOB NOT NULL,
        acked_at   INTEGER NOT NULL,
        PRIMARY KEY (recipient, message_id)
      ) STRICT, WITHOUT ROWID;
      CREATE INDEX delivered_acked_at ON delivered (acked_at);
      -- Receipts waiting for their (offline) sender.
      CREATE TABLE receipts (
        seq        INTEGER PRIMARY KEY AUTOINCREMENT,
        box        BLOB NOT NULL,
        message_id BLOB NOT NULL,
        acked_at   INTEGER NOT NULL,
        UNIQUE (box, message_id)
      ) STRICT;
    `,
  },
  {
    version: 5,
    description: 'registration lock (TOTP)',
    sql: `
      CREATE TABLE registration_locks (
        username      TEXT PRIMARY KEY REFERENCES users (username) ON DELETE CASCADE,
        -- Set by TOTP_SETUP, moved to secret by a verified TOTP_ENABLE.
        pending       TEXT,
        secret        TEXT,
        enabled_at    INTEGER,
        -- The last 30 s step a code was accepted for: a code is good once.
        last_step     INTEGER NOT NULL DEFAULT 0
      ) STRICT;
    `,
  },
  {
    version: 6,
    description: 'encrypted attachment blobs (the bytes are files under blobs/)',
    sql: `
      -- No uploader is recorded: a blob is reachable by whoever holds its id and an access token.
      CREATE TABLE blobs (
        id          TEXT PRIMARY KEY,
        size        INTEGER NOT NULL,
        created_at  INTEGER NOT NULL,
        expires_at  INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX blobs_expires_at ON blobs (expires_at);
    `,
  },
  {
    version: 7,
    description: 'prekey directory: signed, one-time and ML-KEM prekeys',
    sql: `
      CREATE TABLE signed_prekeys (
        username     TEXT PRIMARY KEY REFERENCES users (username),
        key_id       INTEGER NOT NULL,
        public_key   BLOB NOT NULL,
        signature    BLOB NOT NULL,
        published_at INTEGER NOT NULL
      ) STRICT;
      CREATE TABLE one_time_prekeys (
        username   TEXT NOT NULL REFERENCES users (username),
        key_id     INTEGER NOT NULL,
        public_key BLOB NOT NULL,
        PRIMARY KEY (username, key_id)
      ) STRICT;
      CREATE TABLE pq_prekeys (
        username    TEXT NOT NULL REFERENCES users (username),
        key_id      INTEGER NOT NULL,
        last_resort INTEGER NOT NULL,
        public_key  BLOB NOT NULL,
        signature   BLOB NOT NULL,
        PRIMARY KEY (username, key_id)
      ) STRICT;
    `,
  },
  {
    version: 8,
    description: "each blob's uploader, as a keyed pseudonym, for the per-user storage quota",
    sql: `
      -- The same keyed hash of the username as a receipt box: enough to count a user's bytes, not to name them.
      -- Blobs uploaded before this have none and count against nobody.
      ALTER TABLE blobs ADD COLUMN owner BLOB;
      CREATE INDEX blobs_owner ON blobs (owner, expires_at);
    `,
  },
  {
    version: 9,
    description: 'delivered ids as an append-only log in ack order',
    sql: `
      -- Keyed by ack time first, so each id is appended at the end instead of written into a tree ordered by id.
      -- Lookups are in memory (the relay loads the log at start); the log only has to survive a restart.
      CREATE TABLE delivered_log (
        acked_at   INTEGER NOT NULL,
        recipient  TEXT NOT NULL,
        message_id BLOB NOT NULL,
        PRIMARY KEY (acked_at, recipient, message_id)
      ) STRICT, WITHOUT ROWID;
      INSERT INTO delivered_log (acked_at, recipient, message_id) SELECT acked_at, recipient, message_id FROM delivered;
      DROP TABLE delivered;
    `,
  },
  {
    version: 10,
    description: "a recipient's queue and a sender's receipts read in arrival order from an index",
    sql: `
      -- A page (WHERE recipient = ? AND seq > ? ORDER BY seq LIMIT ?) is then a range of this index. With only the
      -- (recipient, message_id) one, each page sorted every row the recipient had left: 0.7 s to drain 10,000.
      CREATE INDEX queue_recipient_seq ON queue (recipient, seq);
      CREATE INDEX receipts_box_seq ON receipts (box, seq);
    `,
  },
  {
    version: 11,
    description: 'receipts found by age for the purge',
    sql: `
      -- The purge (every minute) read every waiting receipt without it: 17 ms on the event loop per 300,000.
      CREATE INDEX receipts_acked_at ON receipts (acked_at);
    `,
  },
];

export const SCHEMA_VERSION = MIGRATIONS.reduce((latest, m) => Math.max(latest, m.version), 0);

export function schemaVersion(db: Database): number {
  const version: unknown = db.pragma('user_version', { simple: true });
  if (typeof version !== 'number') throw new Error('user_version did not read as a number');
  return version;
}

/** Bring the database to SCHEMA_VERSION, one transaction per migration. Refuses a database from a newer relay. */
export function migrate(db: Database): void {
  const current = schemaVersion(db);
  if (current > SCHEMA_VERSION) {
    throw new Error(`relay database has schema version ${current}; this relay knows up to ${SCHEMA_VERSION}`);
  }
  for (const migration of MIGRATIONS) {
    if (migration.version <= current) continue;
    db.transaction(() => {
      db.exec(migration.sql);
      db.pragma(`user_version = ${migration.version}`);
    })();
  }
}
