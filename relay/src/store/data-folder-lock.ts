import { join } from 'node:path';
import Database from 'better-sqlite3-multiple-ciphers';

/** The empty database whose lock marks a data folder as in use by a relay. */
export const LOCK_FILE = 'relay.lock';

/** Another relay holds the data folder. */
export class DataFolderInUseError extends Error {
  readonly code = 'DATA_FOLDER_IN_USE';
  override readonly name = 'DataFolderInUseError';

  constructor(readonly dataDir: string) {
    super(`another relay is running with the data folder ${dataDir}; stop it first, or give this relay a data folder of its own`);
  }
}

/** Releases the data folder (once the database is closed). Safe to call more than once. */
export type ReleaseDataFolder = () => void;

/**
 * Hold the data folder for this process. A second relay on it would keep caches, delivered ids and online users of its
 * own over the same queues, and clear away the first one's half-written blobs as leftovers. The lock is SQLite's
 * exclusive lock on a database of its own (the admin tool still opens the relay's): the kernel drops it when the
 * process ends, however it ends, so a crashed relay leaves no stale lock behind. Throws DataFolderInUseError.
 */
export function lockDataFolder(dataDir: string): ReleaseDataFolder {
  // timeout 0: a held lock is an answer, not something to wait out.
  const db = new Database(join(dataDir, LOCK_FILE), { timeout: 0 });
  try {
    // No journal file beside it: the lock's transaction writes nothing.
    db.pragma('journal_mode = MEMORY');
    db.pragma('locking_mode = EXCLUSIVE');
    // In EXCLUSIVE locking mode the lock a transaction takes stays until the connection closes.
    db.exec('BEGIN EXCLUSIVE; COMMIT');
  } catch (error) {
    db.close();
    if (error instanceof Error && 'code' in error && error.code === 'SQLITE_BUSY') throw new DataFolderInUseError(dataDir);
    throw error;
  }
  return () => {
    if (db.open) db.close();
  };
}

/** Whether a relay holds the data folder now; asks without taking the lock or creating anything. */
export function dataFolderInUse(dataDir: string): boolean {
  let db: Database.Database;
  try {
    db = new Database(join(dataDir, LOCK_FILE), { readonly: true, fileMustExist: true, timeout: 0 });
  } catch {
    // No lock file: no relay has run here since the folder was made.
    return false;
  }
  try {
    db.prepare('SELECT count(*) FROM sqlite_master').get();
    return false;
  } catch (error) {
    if (error instanceof Error && 'code' in error && error.code === 'SQLITE_BUSY') return true;
    throw error;
  } finally {
    db.close();
  }
}
