import { describeError, type Log } from '../log.js';
import { ThrottledLog } from '../throttled-log.js';

/** What a client refused for want of storage is told to wait; a full disk seldom clears sooner. */
export const STORAGE_FULL_RETRY_MS = 60_000;

/** While storage stays full, at most one log line this often: each refused write would otherwise add one. */
export const STORAGE_FULL_LOG_MS = 60_000;

/** SQLite's SQLITE_FULL (the disk, or maxDatabaseBytes), or the file system's ENOSPC or EDQUOT (a blob's file). */
export function isStorageFull(error: unknown): boolean {
  if (!(error instanceof Error) || !('code' in error)) return false;
  return error.code === 'SQLITE_FULL' || error.code === 'ENOSPC' || error.code === 'EDQUOT';
}

/**
 * Writes refused because the relay's storage is full: counted, and logged as `storage_full` at most once per
 * STORAGE_FULL_LOG_MS with the number refused since the last line, so a full disk does not fill the log as well.
 */
export class StorageAlarm {
  private readonly line: ThrottledLog;

  constructor(
    log: Log,
    /** Counts one refused write (the metric). */
    private readonly count: () => void,
    now?: () => number,
  ) {
    this.line = new ThrottledLog(log, 'storage_full', STORAGE_FULL_LOG_MS, now);
  }

  /** True if the write failed for want of storage (then counted, and maybe logged); false for any other failure, which the caller reports. */
  refused(error: unknown): boolean {
    if (!isStorageFull(error)) return false;
    this.count();
    this.line.note(() => describeError(error));
    return true;
  }
}
