import { describe, expect, it } from 'vitest';
import { LOW_DISK_BYTES, StorageFullAtStartError, explainOpenFailure } from '../../relay/src/store/open-failure.js';
import { diskFreeBytes } from '../../relay/src/store/storage-usage.js';

/** An error as better-sqlite3 throws it: SQLite's extended code on `code`. */
function sqliteError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

describe('explainOpenFailure', () => {
  // What a relay restarted on a full tmpfs got from SQLite: it could not size its shared-memory file.
  const shmFailure = sqliteError('SQLITE_IOERR_SHMSIZE', 'disk I/O error');

  it('puts an I/O error or a full database down to a full disk when next to nothing is free', () => {
    const explained = explainOpenFailure(shmFailure, '/srv/relay', () => 0);
    expect(explained).toBeInstanceOf(StorageFullAtStartError);
    expect(explained).toMatchObject({
      code: 'STORAGE_FULL',
      message: 'cannot open the database in /srv/relay: the disk holding it is full (0 bytes free; disk I/O error)',
      cause: shmFailure,
    });
    const full = sqliteError('SQLITE_FULL', 'database or disk is full');
    expect(explainOpenFailure(full, '/srv/relay', () => LOW_DISK_BYTES - 1)).toMatchObject({ code: 'STORAGE_FULL', cause: full });
  });

  it('leaves the error as it came when the disk has room, its free space cannot be read, or the error is not the disk', () => {
    expect(explainOpenFailure(shmFailure, '/srv/relay', () => LOW_DISK_BYTES)).toBe(shmFailure);
    expect(explainOpenFailure(shmFailure, '/srv/relay', () => undefined)).toBe(shmFailure);
    const corrupt = sqliteError('SQLITE_CORRUPT', 'database disk image is malformed');
    expect(explainOpenFailure(corrupt, '/srv/relay', () => 0)).toBe(corrupt);
    expect(explainOpenFailure('not an error', '/srv/relay', () => 0)).toBe('not an error');
  });

  it('reads the free space of a real folder, and none of one that does not exist', () => {
    expect(diskFreeBytes(import.meta.dirname)).toBeGreaterThan(0);
    expect(diskFreeBytes('/nonexistent/parley')).toBeUndefined();
  });
});
