import Database from 'better-sqlite3-multiple-ciphers';
import { ParleyError } from '../../shared/errors.js';
import { toHex } from '../crypto/bytes.js';

export type Db = Database.Database;

/**
 * Open (or create) the whole-file encrypted database (SQLite3MultipleCiphers, ChaCha20-Poly1305).
 * A wrong key or a file that is not ours fails here with VAULT_CORRUPT, before any query runs.
 */
export function openDatabase(file: string, key: Uint8Array): Db {
  const db = new Database(file);
  try {
    db.pragma(`cipher = 'chacha20'`);
    db.pragma(`hexkey = '${toHex(key)}'`);
    // Reading the schema is the first access that touches page 1: this is where a wrong key shows.
    db.prepare('SELECT count(*) FROM sqlite_master').get();
    db.pragma('journal_mode = WAL');
    db.pragma('foreign_keys = ON');
    // Temporary tables and sort spills stay in memory so no unencrypted temp file reaches the disk.
    db.pragma('temp_store = MEMORY');
    db.pragma('secure_delete = ON');
    // 32 MiB of decrypted pages in memory (never on disk): history pages and search doclists stay hot.
    db.pragma('cache_size = -32768');
  } catch {
    db.close();
    throw new ParleyError('VAULT_CORRUPT', 'The profile database cannot be opened');
  }
  return db;
}
