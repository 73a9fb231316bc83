import { copyFileSync, existsSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3-multiple-ciphers';
import { describe, expect, it } from 'vitest';
import { Checkpointer } from '../../relay/src/store/checkpointer.js';
import { WAL_SIZE_LIMIT_BYTES, openDatabase } from '../../relay/src/store/sqlite.js';
import { useCleanups } from '../support/cleanups.js';

const cleanups = useCleanups();

/** A WAL database whose own connection never checkpoints. */
async function walDatabase(): Promise<Database.Database> {
  const dir = await cleanups.tempDir('parley-checkpointer-');
  const db = new Database(join(dir, 'db.sqlite'));
  db.pragma('journal_mode = WAL');
  db.pragma('wal_autocheckpoint = 0');
  db.exec('CREATE TABLE t (v BLOB)');
  return db;
}

function commitRows(db: Database.Database, count: number): void {
  const insert = db.prepare('INSERT INTO t VALUES (?)');
  db.transaction(() => {
    for (let i = 0; i < count; i++) insert.run(Buffer.alloc(1024, i));
  })();
}

const never = (): void => {
  throw new Error('the checkpointer failed');
};
const quiet = { onFailure: never, onCheckpointFailed: never };

describe('checkpointer', () => {
  it('moves every committed page of the log into the database from its worker, and the next write starts the log over', async () => {
    const db = await walDatabase();
    const checkpointer = new Checkpointer(db.name, quiet, 3_600_000);
    commitRows(db, 2_000);
    const walBytes = statSync(`${db.name}-wal`).size;
    expect(statSync(db.name).size).toBeLessThan(100_000);

    const result = await checkpointer.checkpoint();
    expect(result.log).toBeGreaterThan(500);
    expect(result.checkpointed).toBe(result.log);
    expect(statSync(db.name).size).toBeGreaterThan(2_000 * 1024);

    // Everything was copied, so the next transaction writes from the log's start: the file does not grow.
    commitRows(db, 2_000);
    expect(statSync(`${db.name}-wal`).size).toBe(walBytes);
    expect(db.prepare('SELECT count(*) FROM t').pluck().get()).toBe(4_000);
    checkpointer.close();
    db.close();
  });

  it("cuts the relay database's log back to its limit when the log starts over after a burst", async () => {
    const db = openDatabase(await cleanups.tempDir('parley-wal-limit-'));
    db.pragma('wal_autocheckpoint = 0');
    const checkpointer = new Checkpointer(db.name, quiet, 3_600_000);
    db.exec('CREATE TABLE burst (v BLOB)');
    const insert = db.prepare('INSERT INTO burst VALUES (?)');
    const rows = Math.ceil((WAL_SIZE_LIMIT_BYTES * 1.25) / 65_536);
    db.transaction(() => {
      for (let i = 0; i < rows; i++) insert.run(Buffer.alloc(65_536, i));
    })();
    expect(statSync(`${db.name}-wal`).size).toBeGreaterThan(WAL_SIZE_LIMIT_BYTES * 1.2);

    const result = await checkpointer.checkpoint();
    expect(result.checkpointed).toBe(result.log);
    // The next commit starts the log over, and cuts the file back.
    insert.run(Buffer.alloc(100));
    expect(statSync(`${db.name}-wal`).size).toBe(WAL_SIZE_LIMIT_BYTES);
    expect(db.prepare('SELECT count(*) FROM burst').pluck().get()).toBe(rows + 1);
    checkpointer.close();
    db.close();
  });

  it('closes its own connection first, so the owner closes last and removes the log', async () => {
    const db = await walDatabase();
    const checkpointer = new Checkpointer(db.name, quiet, 3_600_000);
    commitRows(db, 10);
    await checkpointer.checkpoint();
    checkpointer.close();
    db.close();
    expect(existsSync(`${db.name}-wal`)).toBe(false);
    await expect(checkpointer.checkpoint()).rejects.toThrow('the checkpointer has stopped');
  });

  it('tells its owner once when the worker fails, and then refuses to checkpoint', async () => {
    const dir = await cleanups.tempDir('parley-checkpointer-');
    const failures: Error[] = [];
    let told: () => void = () => undefined;
    const failed = new Promise<void>((resolve) => (told = resolve));
    // No such folder: the worker cannot open the database.
    const checkpointer = new Checkpointer(join(dir, 'missing', 'db.sqlite'), {
      onFailure(error) {
        failures.push(error);
        told();
      },
      onCheckpointFailed: never,
    });
    const first = checkpointer.checkpoint();
    await failed;
    await expect(first).rejects.toThrow('the checkpoint worker failed');
    await expect(checkpointer.checkpoint()).rejects.toThrow('the checkpointer has stopped');
    expect(failures).toHaveLength(1);
    expect(failures[0]?.message).toMatch(/directory does not exist|unable to open/);
    checkpointer.close();
  });

  it('keeps its worker after a checkpoint fails, tells the first failure of a run once, and checkpoints again once it can', async () => {
    const dir = await cleanups.tempDir('parley-checkpointer-');
    const path = join(dir, 'db.sqlite');
    // Not a database yet: the worker opens the file, and each checkpoint fails on it.
    writeFileSync(path, Buffer.alloc(8192, 7));
    const checkpointFailures: Error[] = [];
    let told: () => void = () => undefined;
    const failed = new Promise<void>((resolve) => (told = resolve));
    const checkpointer = new Checkpointer(
      path,
      {
        onFailure: never,
        onCheckpointFailed(error) {
          checkpointFailures.push(error);
          told();
        },
      },
      1,
    );
    await failed;
    for (let i = 0; i < 5; i++) await expect(checkpointer.checkpoint()).rejects.toThrow(/not a database/);
    expect(checkpointFailures).toHaveLength(1);

    // The same file becomes a WAL database with rows in it: the next checkpoint goes through on the same worker.
    const source = new Database(join(dir, 'source.sqlite'));
    source.pragma('journal_mode = WAL');
    source.exec('CREATE TABLE t (v BLOB)');
    commitRows(source, 3);
    source.close();
    copyFileSync(join(dir, 'source.sqlite'), path);
    const db = new Database(path);
    db.pragma('wal_autocheckpoint = 0');
    commitRows(db, 100);
    const result = await checkpointer.checkpoint();
    expect(result.checkpointed).toBe(result.log);
    expect(result.log).toBeGreaterThan(20);
    checkpointer.close();
    expect(db.prepare('SELECT count(*) FROM t').pluck().get()).toBe(103);
    db.close();
  });
});
