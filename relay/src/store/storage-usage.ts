import { statfsSync } from 'node:fs';
import type Database from 'better-sqlite3-multiple-ciphers';

/** What the relay's data takes up: read by its metrics at each scrape and by `relay:admin stats`. */
export interface StorageUsage {
  /** The database's pages, those still in its write-ahead log included: what maxDatabaseBytes caps. */
  databaseBytes(): number;
  /** Blobs not yet expired at time now. */
  blobBytes(now: number): number;
}

/** StorageUsage of a relay database: a pragma and a sum over the blobs' rows, never their files. */
export function sqliteStorageUsage(db: Database.Database): StorageUsage {
  const database = db.prepare<[], number>('SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()').pluck();
  const blobs = db.prepare<[number], number>('SELECT coalesce(sum(size), 0) FROM blobs WHERE expires_at > ?').pluck();
  return {
    databaseBytes: () => database.get() ?? 0,
    blobBytes: (now) => blobs.get(now) ?? 0,
  };
}

/** Bytes an unprivileged process may still write on the disk holding dir; undefined if it cannot be read. */
export function diskFreeBytes(dir: string): number | undefined {
  try {
    const { bavail, bsize } = statfsSync(dir);
    return bavail * bsize;
  } catch {
    return undefined;
  }
}
