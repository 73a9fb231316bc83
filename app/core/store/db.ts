import Database from 'better-sqlite3-multiple-ciphers';
import { ParleyError } from '../../shared/errors.js';
import { toHex } from '../crypto/bytes.js';

export type Db = Database.Database;

/** The page cipher of every database Parley writes: AEGIS-256, an authenticated cipher that runs on AES instructions. */
export const DATABASE_CIPHER = 'aegis-256';

/** What profiles made before AEGIS used; such a file is re-encrypted to AEGIS the first time it opens. */
const LEGACY_CIPHER = 'chacha20';

/**
 * Open (or create) the whole-file encrypted database (SQLite3MultipleCiphers, AEGIS-256 per page).
 * A wrong key or a file that is not ours fails here with VAULT_CORRUPT, before any query runs.
 * A database still under the older ChaCha20-Poly1305 cipher is re-encrypted in place, with its data.
 */
export function openDatabase(file: string, key: Uint8Array): Db {
  const db = openWithCipher(file, key, 'aegis') ?? upgradeLegacyDatabase(file, key);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('foreign_keys = ON');
    // Temporary tables and sort spills stay in memory so no unencrypted temp file reaches the disk.
    db.pragma('temp_store = MEMORY');
    db.pragma('secure_delete = ON');
    // 32 MiB of decrypted pages in memory (never on disk): history pages and search doclists stay hot.
    db.pragma('cache_size = -32768');
  } catch {
    db.close();
    throw corrupt();
  }
  return db;
}

function openWithCipher(file: string, key: Uint8Array, cipher: 'aegis' | typeof LEGACY_CIPHER): Db | undefined {
  const db = new Database(file);
  try {
    setCipher(db, cipher);
    db.pragma(`hexkey = '${toHex(key)}'`);
    // Reading the schema is the first access that touches page 1: this is where a wrong key shows.
    db.prepare('SELECT count(*) FROM sqlite_master').get();
    return db;
  } catch {
    db.close();
    return undefined;
  }
}

function setCipher(db: Db, cipher: 'aegis' | typeof LEGACY_CIPHER): void {
  db.pragma(`cipher = '${cipher}'`);
  if (cipher !== 'aegis') return;
  db.pragma(`algorithm = '${DATABASE_CIPHER}'`);
  // The key is already a random 256-bit subkey of the master key: stretching it again buys nothing, so
  // the cipher's own Argon2id pass runs at its minimum instead of costing every open ~30 ms.
  db.pragma('tcost = 1');
  db.pragma('mcost = 64');
}

/** Re-encrypt a ChaCha20-Poly1305 database with AEGIS-256 under the same key; rekeying needs a rollback journal. */
function upgradeLegacyDatabase(file: string, key: Uint8Array): Db {
  const db = openWithCipher(file, key, LEGACY_CIPHER);
  if (!db) throw corrupt();
  try {
    db.pragma('journal_mode = DELETE');
    setCipher(db, 'aegis');
    db.pragma(`hexrekey = '${toHex(key)}'`);
    db.close();
  } catch {
    db.close();
    throw corrupt();
  }
  const upgraded = openWithCipher(file, key, 'aegis');
  if (!upgraded) throw corrupt();
  return upgraded;
}

function corrupt(): ParleyError {
  return new ParleyError('VAULT_CORRUPT', 'The profile database cannot be opened');
}
