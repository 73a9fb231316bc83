import { isStorageFull } from './storage-full.js';
import { diskFreeBytes } from './storage-usage.js';

/** With less free space than this, a database that fails to open with an I/O error is put down to a full disk. */
export const LOW_DISK_BYTES = 1024 * 1024;

/** The relay could not open its database because the disk holding the data folder is full. */
export class StorageFullAtStartError extends Error {
  readonly code = 'STORAGE_FULL';
  override readonly name = 'StorageFullAtStartError';

  constructor(dataDir: string, freeBytes: number, cause: Error) {
    super(`cannot open the database in ${dataDir}: the disk holding it is full (${freeBytes} bytes free; ${cause.message})`, { cause });
  }
}

function isIoError(error: Error): boolean {
  return 'code' in error && typeof error.code === 'string' && error.code.startsWith('SQLITE_IOERR');
}

/**
 * The error to report for a store that failed to open. On a full disk SQLite cannot even create its shared-memory file,
 * and says only "disk I/O error": when the disk has next to no room left, that is said instead. Other errors pass as they came.
 */
export function explainOpenFailure(error: unknown, dataDir: string, freeBytes: (dir: string) => number | undefined = diskFreeBytes): unknown {
  if (!(error instanceof Error) || !(isIoError(error) || isStorageFull(error))) return error;
  const free = freeBytes(dataDir);
  return free !== undefined && free < LOW_DISK_BYTES ? new StorageFullAtStartError(dataDir, free, error) : error;
}
