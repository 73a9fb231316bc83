import { join } from 'node:path';
import Database from 'better-sqlite3-multiple-ciphers';
import { describe, expect, it } from 'vitest';
import { WalSync } from '../../relay/src/store/wal-sync.js';
import { useCleanups } from '../support/cleanups.js';

const cleanups = useCleanups();

async function walDatabase(): Promise<Database.Database> {
  const dir = await cleanups.tempDir('parley-wal-sync-');
  const db = new Database(join(dir, 'db.sqlite'));
  db.pragma('journal_mode = WAL');
  db.exec('CREATE TABLE t (v TEXT)');
  return db;
}

const synced = (wal: WalSync): Promise<Error | undefined> => new Promise((resolve) => wal.sync(resolve));

describe('WAL sync', () => {
  it('flushes the log of a database in WAL mode and calls back without an error', async () => {
    const db = await walDatabase();
    const wal = new WalSync(`${db.name}-wal`);
    db.prepare('INSERT INTO t VALUES (?)').run('x');
    expect(await synced(wal)).toBeUndefined();
    wal.close();
    db.close();
  });

  it('refuses to open a log that is not there, and once closed answers every sync with an error', async () => {
    const db = await walDatabase();
    expect(() => new WalSync(`${db.name}-nothing`)).toThrow(/ENOENT/);
    const wal = new WalSync(`${db.name}-wal`);
    wal.close();
    expect((await synced(wal))?.message).toBe('the WAL file is closed');
    db.close();
  });
});
