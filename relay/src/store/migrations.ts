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
