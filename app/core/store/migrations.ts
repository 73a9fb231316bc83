import { ParleyError } from '../../shared/errors.js';
import type { Db } from './db.js';
import { allowDeliveredStatus } from './migration-delivered.js';

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
    name: 'sessions, prekeys, verification and undecryptable placeholders',
    up: (db) =>
      db.exec(`
        -- Private prekeys of this device; one-time rows are deleted when a session consumes them.
        CREATE TABLE prekeys_signed (
          id          INTEGER PRIMARY KEY,
          public_key  BLOB NOT NULL,
          secret_key  BLOB NOT NULL,
          signature   BLOB NOT NULL,
          created_at  INTEGER NOT NULL,
          retired_at  INTEGER
        ) STRICT;
        CREATE TABLE prekeys_one_time (
          id          INTEGER PRIMARY KEY,
          public_key  BLOB NOT NULL,
          secret_key  BLOB NOT NULL,
          created_at  INTEGER NOT NULL
        ) STRICT;
        CREATE TABLE prekeys_pq (
          id          INTEGER PRIMARY KEY,
          public_key  BLOB NOT NULL,
          secret_key  BLOB NOT NULL,
          signature   BLOB NOT NULL,
          last_resort INTEGER NOT NULL,
          created_at  INTEGER NOT NULL
        ) STRICT;
        -- One Double Ratchet session per contact. initial_header: attached to sends until the first reply;
        -- base_key: the initiator's ephemeral key, to recognise repeats of the same initial message.
        CREATE TABLE sessions (
          contact        TEXT PRIMARY KEY REFERENCES contacts (username),
          state          BLOB NOT NULL,
          initial_header BLOB,
          base_key       BLOB NOT NULL,
          updated_at     INTEGER NOT NULL
        ) STRICT;
        -- Sessions replaced by a newer one (both sides started at once): still tried on decrypt, a few per contact.
        CREATE TABLE sessions_archive (
          contact        TEXT NOT NULL REFERENCES contacts (username),
          base_key       BLOB NOT NULL,
          state          BLOB NOT NULL,
          initial_header BLOB,
          archived_at    INTEGER NOT NULL,
          PRIMARY KEY (contact, base_key)
        ) STRICT;
        ALTER TABLE contacts ADD COLUMN verified INTEGER NOT NULL DEFAULT 0;
        -- Set when the contact's identity key changed: sending is held until the user acknowledges it.
        ALTER TABLE contacts ADD COLUMN identity_changed INTEGER NOT NULL DEFAULT 0;
        -- 'text', 'undecryptable' (error_code says why) or 'notice' (a line from Parley itself).
        ALTER TABLE messages ADD COLUMN kind TEXT NOT NULL DEFAULT 'text';
        ALTER TABLE messages ADD COLUMN error_code TEXT;
        -- The sealed envelope of an outgoing message, written with the session state that produced it.
        ALTER TABLE messages ADD COLUMN envelope BLOB;
        -- Conversations from before sessions existed get a notice; the next send starts a session.
        INSERT INTO messages (id, contact, direction, text, sent_at, status, kind)
          SELECT lower(hex(randomblob(16))), username, 'in', 'Parley now protects this conversation with a new kind of session; it starts with your next message.', CAST(strftime('%s','now') AS INTEGER) * 1000, 'received', 'notice'
          FROM contacts WHERE EXISTS (SELECT 1 FROM messages WHERE messages.contact = contacts.username);
      `),
  },
  {
    version: 3,
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
    version: 4,
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
    version: 5,
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
  {
    version: 6,
    name: 'delivered status for outgoing messages',
    up: allowDeliveredStatus,
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
