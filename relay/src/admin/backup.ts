import { chmodSync, constants, copyFileSync, existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3-multiple-ciphers';
import { SALT_FILE } from '../logger.js';
import { RECEIPT_KEY_FILE } from '../receipts.js';
import { BLOB_DIR } from '../store/blobs.js';
import { DATABASE_FILE } from '../store/sqlite.js';
import { TOKEN_KEY_FILE } from '../tokens.js';
import { AdminError } from './operations.js';

/** The data folder's keys: without them a restored relay could not check its tokens, find receipts' senders or keep log hashes. */
const KEY_FILES = [TOKEN_KEY_FILE, RECEIPT_KEY_FILE, SALT_FILE] as const;

export interface BackupSummary {
  readonly databaseBytes: number;
  readonly keyFiles: number;
  readonly blobs: number;
  /** Blobs in the snapshot whose files the relay purged (expired) before they were copied; their rows were dropped. */
  readonly blobsGone: number;
}

/** Copy a file as owner-only and never over an existing one. */
function copyPrivate(from: string, to: string): void {
  copyFileSync(from, to, constants.COPYFILE_EXCL);
  chmodSync(to, 0o600);
}

/**
 * Back up a relay's data folder into dest (a new or empty folder) while the relay runs: a consistent snapshot of the
 * database (SQLite's VACUUM INTO, inside one read transaction), the keys, and the files of the snapshot's unexpired
 * blobs. Starting a relay with `--data dest` restores it.
 */
export function backupRelay(db: Database.Database, dataDir: string, dest: string, now: number): BackupSummary {
  if (existsSync(dest) && (!statSync(dest).isDirectory() || readdirSync(dest).length > 0)) {
    throw new AdminError('BACKUP_DESTINATION_NOT_EMPTY', `${dest} already holds something; back up into a new or empty folder`);
  }
  mkdirSync(join(dest, BLOB_DIR), { recursive: true, mode: 0o700 });
  chmodSync(dest, 0o700);
  const databasePath = join(dest, DATABASE_FILE);
  db.prepare('VACUUM INTO ?').run(databasePath);
  chmodSync(databasePath, 0o600);

  let keyFiles = 0;
  for (const name of KEY_FILES) {
    if (!existsSync(join(dataDir, name))) continue;
    copyPrivate(join(dataDir, name), join(dest, name));
    keyFiles += 1;
  }

  const copy = new Database(databasePath);
  try {
    const ids = copy.prepare<[number], string>('SELECT id FROM blobs WHERE expires_at > ?').pluck().all(now);
    const forget = copy.prepare<[string]>('DELETE FROM blobs WHERE id = ?');
    let blobs = 0;
    let blobsGone = 0;
    for (const id of ids) {
      try {
        copyPrivate(join(dataDir, BLOB_DIR, id), join(dest, BLOB_DIR, id));
        blobs += 1;
      } catch (error) {
        if (!(error instanceof Error && 'code' in error && error.code === 'ENOENT')) throw error;
        // Purged by the relay since the snapshot: it had just expired.
        forget.run(id);
        blobsGone += 1;
      }
    }
    // Expired ones would be purged by the restored relay anyway; without their files they are removed now.
    copy.prepare<[number]>('DELETE FROM blobs WHERE expires_at <= ?').run(now);
    return { databaseBytes: statSync(databasePath).size, keyFiles, blobs, blobsGone };
  } finally {
    copy.close();
  }
}
