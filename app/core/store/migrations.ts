import { ParleyError } from '../../shared/errors.js';
import type { Db } from './db.js';

export interface Migration {
  version: number;
  name: string;
  up(db: Db): void;
}

/** Numbered schema migrations; append only. Each runs in its own transaction with user_version. */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'profile, contacts and messages',
    up: (db) =>
      db.exec(`
        CREATE TABLE profile (
          id               INTEGER PRIMARY KEY CHECK (id = 1),
          username         TEXT NOT NULL,
          relay_url        TEXT NOT NULL,
          identity_key     BLOB NOT NULL,
          identity_secret  BLOB NOT NULL,
          agreement_key    BLOB NOT NULL,
          agreement_secret BLOB NOT NULL,
          agreement_sig    BLOB NOT NULL,
          created_at       INTEGER NOT NULL
        ) STRICT;
        CREATE TABLE contacts (
          username      TEXT PRIMARY KEY,
          identity_key  BLOB NOT NULL,
          agreement_key BLOB NOT NULL,
          added_at      INTEGER NOT NULL
        ) STRICT;
        CREATE TABLE messages (
          seq       INTEGER PRIMARY KEY AUTOINCREMENT,
          id        TEXT NOT NULL UNIQUE,
          contact   TEXT NOT NULL REFERENCES contacts (username),
          direction TEXT NOT NULL CHECK (direction IN ('out', 'in')),
          text      TEXT NOT NULL,
          sent_at   INTEGER NOT NULL,
          status    TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'received', 'failed'))
        ) STRICT;
        CREATE INDEX messages_by_conversation ON messages (contact, sent_at, seq);
        CREATE INDEX messages_pending ON messages (seq) WHERE status = 'pending';
      `),
  },
  {
    version: 2,
    name: 'settings of the profile',
    up: (db) =>
      db.exec(`
        CREATE TABLE settings (
          key   TEXT PRIMARY KEY,
          value TEXT NOT NULL
        ) STRICT;
      `),
  },
  {
    version: 3,
    name: 'full-text search over message text',
    // External content: the index stores tokens only and reads text from messages; triggers keep it in step.
    // Prefix indexes make "lig*" one lookup; the contact column turns in:/from: into an index intersection.
    up: (db) =>
      db.exec(`
        CREATE VIRTUAL TABLE messages_fts USING fts5(
          text, contact, content = 'messages', content_rowid = 'seq',
          tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3 4'
        );
        CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
          INSERT INTO messages_fts (rowid, text, contact) VALUES (new.seq, new.text, new.contact);
        END;
        CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
          INSERT INTO messages_fts (messages_fts, rowid, text, contact) VALUES ('delete', old.seq, old.text, old.contact);
        END;
        CREATE TRIGGER messages_fts_update AFTER UPDATE OF text, contact ON messages BEGIN
          INSERT INTO messages_fts (messages_fts, rowid, text, contact) VALUES ('delete', old.seq, old.text, old.contact);
          INSERT INTO messages_fts (rowid, text, contact) VALUES (new.seq, new.text, new.contact);
        END;
        INSERT INTO messages_fts (messages_fts) VALUES ('rebuild');
        CREATE INDEX messages_by_time ON messages (sent_at, seq);
      `),
  },
  {
    version: 4,
    name: 'attachments at rest',
    // Each file's own key lives here, inside the encrypted database; the file itself holds only ciphertext.
    up: (db) =>
      db.exec(`
        CREATE TABLE attachments (
          id          TEXT PRIMARY KEY,
          file_key    BLOB NOT NULL,
          thumb_key   BLOB,
          size        INTEGER NOT NULL,
          mime_type   TEXT NOT NULL,
          created_at  INTEGER NOT NULL
        ) STRICT;
      `),
  },
];

export const SCHEMA_VERSION = MIGRATIONS.length;

export function schemaVersion(db: Db): number {
  return db.pragma('user_version', { simple: true }) as number;
}

/** Bring the database up to SCHEMA_VERSION; refuses a database written by a newer Parley. */
export function migrate(db: Db, migrations: readonly Migration[] = MIGRATIONS): void {
  const current = schemaVersion(db);
  if (current > migrations.length) throw new ParleyError('VAULT_CORRUPT', 'The profile was written by a newer version of Parley');
  for (const migration of migrations.slice(current)) {
    db.transaction(() => {
      migration.up(db);
      db.pragma(`user_version = ${migration.version}`);
    })();
  }
}
