import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3-multiple-ciphers';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { GroupCommit, LAZY_COMMIT_MS, NOW, OVERDUE_MS, notBefore, within, type SyncCommitted, type Wait } from '../../relay/src/store/group-commit.js';

const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

/** A WAL database with one table, plus a second connection that sees only committed rows. */
async function openPair(heldGridMs = 0, sync?: SyncCommitted): Promise<{ db: Database.Database; reader: Database.Database; commits: () => number; writes: GroupCommit }> {
  const dir = await mkdtemp(join(tmpdir(), 'parley-group-commit-'));
  dirs.push(dir);
  const db = new Database(join(dir, 'db.sqlite'));
  db.pragma('journal_mode = WAL');
  db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL UNIQUE)');
  const reader = new Database(join(dir, 'db.sqlite'), { readonly: true });
  let count = 0;
  const transaction = db.transaction((work: () => void) => work());
  const rowsChanged = db.prepare<[], number>('SELECT total_changes()').pluck();
  const writes = new GroupCommit(
    (work) => {
      const before = rowsChanged.get();
      transaction(work);
      count++;
      return rowsChanged.get() !== before;
    },
    heldGridMs,
    sync,
    () => db.inTransaction,
  );
  return { db, reader, commits: () => count, writes };
}

/** A sync of the log that is done only when the test says so. */
function manualSync(): { sync: SyncCommitted; started: () => number; finish: (error?: Error) => void } {
  const running: Array<(error: Error | undefined) => void> = [];
  let started = 0;
  return {
    sync: (done) => {
      started++;
      running.push(done);
    },
    started: () => started,
    finish: (error) => running.shift()?.(error),
  };
}

/** Runs `test` with timers, immediates and performance.now() faked: time moves only when the test moves it. */
async function withFakeClock(test: () => Promise<void>): Promise<void> {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setImmediate', 'performance'] });
  try {
    await test();
  } finally {
    vi.useRealTimers();
  }
}

/** Let setImmediate callbacks (the end-of-turn commit) run. */
const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('group commit', () => {
  it('writes everything submitted in one turn in one transaction, and settles each write only once it is visible to another connection', async () => {
    const { db, reader, commits, writes } = await openPair();
    const insert = db.prepare<[string]>('INSERT INTO t (v) VALUES (?)');
    const seen: string[][] = [];
    const settled = ['a', 'b', 'c'].map(
      (v) =>
        new Promise<void>((resolve, reject) =>
          writes.submit(
            () => insert.run(v).changes,
            () => {
              seen.push(reader.prepare<[], string>('SELECT v FROM t ORDER BY id').pluck().all());
              resolve();
            },
            reject,
          ),
        ),
    );
    expect(reader.prepare('SELECT count(*) FROM t').pluck().get()).toBe(0);
    await Promise.all(settled);
    expect(commits()).toBe(1);
    expect(seen).toEqual([['a', 'b', 'c'], ['a', 'b', 'c'], ['a', 'b', 'c']]);
    db.close();
    reader.close();
  });

  it('reports a write that throws to its own caller and still commits the others', async () => {
    const { db, reader, writes } = await openPair();
    const insert = db.prepare<[string]>('INSERT INTO t (v) VALUES (?)');
    const outcome = (v: string): Promise<string> =>
      new Promise((resolve) => writes.submit(() => insert.run(v), () => resolve('ok'), (error) => resolve(error instanceof Error ? 'failed' : 'odd')));
    const results = await Promise.all([outcome('x'), outcome('x'), outcome('y')]);
    expect(results).toEqual(['ok', 'failed', 'ok']);
    expect(reader.prepare<[], string>('SELECT v FROM t ORDER BY id').pluck().all()).toEqual(['x', 'y']);
    db.close();
    reader.close();
  });

  it("reports a write whose settling throws to that write alone, and still settles the writes after it", async () => {
    const { db, writes } = await openPair();
    const insert = db.prepare<[string]>('INSERT INTO t (v) VALUES (?)');
    const told: string[] = [];
    const submit = (v: string, then: () => void): void => writes.submit(() => insert.run(v), then, (error) => void told.push(`${v}: ${(error as Error).message}`));
    submit('a', () => {
      throw new Error('caller gone');
    });
    submit('b', () => void told.push('b settled'));
    writes.flush();
    expect(told).toEqual(['a: caller gone', 'b settled']);
    db.close();
  });

  it('fails every write of the batch, and runs none after it, when one write\'s failure ends the transaction (a full database)', async () => {
    const { db, reader, writes } = await openPair();
    db.pragma(`max_page_count = ${Number(db.pragma('page_count', { simple: true }))}`);
    const insert = db.prepare<[string]>('INSERT INTO t (v) VALUES (?)');
    const ran: string[] = [];
    const outcome = (v: string): Promise<string> =>
      new Promise((resolve) =>
        writes.submit(
          () => {
            ran.push(v);
            return insert.run(v);
          },
          () => resolve('ok'),
          (error) => resolve(error instanceof Error && 'code' in error ? String(error.code) : 'odd'),
        ),
      );
    // The long value needs pages the database may not have: SQLite then rolls the whole transaction back.
    const results = await Promise.all([outcome('a'), outcome('b'.repeat(20_000)), outcome('c')]);
    expect(results).toEqual(['SQLITE_FULL', 'SQLITE_FULL', 'SQLITE_FULL']);
    expect(ran).toHaveLength(2);
    expect(reader.prepare('SELECT count(*) FROM t').pluck().get()).toBe(0);

    // Nothing is left half done: the next batch commits.
    expect(await Promise.all([outcome('d'), outcome('e')])).toEqual(['ok', 'ok']);
    expect(reader.prepare<[], string>('SELECT v FROM t ORDER BY id').pluck().all()).toEqual(['d', 'e']);
    db.close();
    reader.close();
  });

  it('flush commits pending writes at once', async () => {
    const { db, reader, writes } = await openPair();
    const insert = db.prepare<[string]>('INSERT INTO t (v) VALUES (?)');
    let done = false;
    writes.submit(() => insert.run('z'), () => (done = true), () => undefined);
    writes.flush();
    expect(done).toBe(true);
    expect(reader.prepare('SELECT count(*) FROM t').pluck().get()).toBe(1);
    db.close();
    reader.close();
  });

  it('a lazy write rides along with the next urgent one, or commits on its own after a short wait', async () => {
    const { db, reader, commits, writes } = await openPair();
    const insert = db.prepare<[string]>('INSERT INTO t (v) VALUES (?)');
    const submit = (v: string, wait: Wait): Promise<void> =>
      new Promise((resolve, reject) => writes.submit(() => insert.run(v), () => resolve(), reject, wait));
    const lazyAlone = submit('alone', within(LAZY_COMMIT_MS));
    await lazyAlone;
    expect(commits()).toBe(1);
    const lazyFirst = submit('lazy', within(LAZY_COMMIT_MS));
    const urgent = submit('urgent', NOW);
    await Promise.all([lazyFirst, urgent]);
    expect(commits()).toBe(2);
    expect(reader.prepare<[], string>('SELECT v FROM t ORDER BY id').pluck().all()).toEqual(['alone', 'lazy', 'urgent']);
    db.close();
    reader.close();
  });

  it('a write with a shorter wait brings the commit forward for the writes waiting longer', async () => {
    const { db, reader, commits, writes } = await openPair();
    const insert = db.prepare<[string]>('INSERT INTO t (v) VALUES (?)');
    const order: string[] = [];
    const submit = (v: string, wait: Wait): Promise<void> =>
      new Promise((resolve, reject) => writes.submit(() => insert.run(v), () => (order.push(v), resolve()), reject, wait));
    // An hour-long wait would time the test out; the 10 ms write's deadline must carry it.
    const long = submit('long', within(3_600_000));
    const short = submit('short', within(LAZY_COMMIT_MS));
    await Promise.all([long, short]);
    expect(commits()).toBe(1);
    expect(order).toEqual(['long', 'short']);
    db.close();
    reader.close();
  });

  it('never commits a notBefore write early with other commits, but does on flush', async () => {
    const { db, reader, commits, writes } = await openPair();
    const insert = db.prepare<[string]>('INSERT INTO t (v) VALUES (?)');
    const rows = (): string[] => reader.prepare<[], string>('SELECT v FROM t ORDER BY id').pluck().all();
    const submit = (v: string, wait: Wait): Promise<void> =>
      new Promise((resolve, reject) => writes.submit(() => insert.run(v), () => resolve(), reject, wait));
    const held = submit('held', notBefore(3_600_000));
    await submit('urgent', NOW);
    await submit('lazy', within(LAZY_COMMIT_MS));
    expect(rows()).toEqual(['urgent', 'lazy']);
    expect(commits()).toBe(2);
    writes.flush();
    await held;
    expect(rows()).toEqual(['urgent', 'lazy', 'held']);

    // Its own deadline commits it without anything else happening.
    const shortHold = submit('short hold', notBefore(20));
    await shortHold;
    expect(rows()).toContain('short hold');
    db.close();
    reader.close();
  });

  it('commits held writes on its grid: never before their deadline, and those due in one step in one commit', async () => {
    await withFakeClock(async () => {
      const { db, reader, commits, writes } = await openPair(100);
      const insert = db.prepare<[string]>('INSERT INTO t (v) VALUES (?)');
      const rows = (): string[] => reader.prepare<[], string>('SELECT v FROM t ORDER BY id').pluck().all();
      const start = performance.now();
      const settledAt: Record<string, number> = {};
      const submit = (v: string): void =>
        writes.submit(() => insert.run(v), () => (settledAt[v] = performance.now() - start), () => undefined, notBefore(30));
      // Due at 30 and 40 from the start; the grid point after both is the first at or past 40.
      submit('a');
      await vi.advanceTimersByTimeAsync(10);
      submit('b');
      const gridPoint = Math.ceil((start + 40) / 100) * 100 - start;
      await vi.advanceTimersByTimeAsync(gridPoint - 10 - 1);
      expect(rows()).toEqual([]);
      await vi.advanceTimersByTimeAsync(1);
      expect(rows()).toEqual(['a', 'b']);
      expect(commits()).toBe(1);
      expect(settledAt).toEqual({ a: gridPoint, b: gridPoint });
      db.close();
      reader.close();
    });
  });

  it('commits each held write at its own deadline: one due later never puts back the timer of one due sooner', async () => {
    await withFakeClock(async () => {
      const { db, reader, commits, writes } = await openPair();
      const insert = db.prepare<[string]>('INSERT INTO t (v) VALUES (?)');
      const rows = (): string[] => reader.prepare<[], string>('SELECT v FROM t ORDER BY v').pluck().all();
      const submit = (v: string, ms: number): void => writes.submit(() => insert.run(v), () => undefined, () => undefined, notBefore(ms));
      submit('sooner', 30);
      submit('later', 33);
      await vi.advanceTimersByTimeAsync(29);
      expect(rows()).toEqual([]);
      await vi.advanceTimersByTimeAsync(1);
      expect(rows()).toEqual(['sooner']);
      await vi.advanceTimersByTimeAsync(3);
      expect(rows()).toEqual(['later', 'sooner']);
      expect(commits()).toBe(2);
      db.close();
      reader.close();
    });
  });

  it('takes a held write due within a millisecond along with a commit, rather than waking again for it', async () => {
    await withFakeClock(async () => {
      const { db, reader, commits, writes } = await openPair();
      const insert = db.prepare<[string]>('INSERT INTO t (v) VALUES (?)');
      const rows = (): string[] => reader.prepare<[], string>('SELECT v FROM t ORDER BY v').pluck().all();
      const submit = (v: string, wait: Wait): void => writes.submit(() => insert.run(v), () => undefined, () => undefined, wait);
      submit('held', notBefore(0.5));
      submit('now', NOW);
      // The end of turn, before the held write's deadline.
      await vi.advanceTimersByTimeAsync(0);
      expect(rows()).toEqual(['held', 'now']);
      expect(commits()).toBe(1);
      await vi.advanceTimersByTimeAsync(10);
      expect(commits()).toBe(1);
      db.close();
      reader.close();
    });
  });

  it('commits from runOverdue what a late timer or end of turn would have, when the loop has not reached them', async () => {
    // Fake timers that the test never advances: the loop stuck in its poll phase, as under a flood of busy sockets.
    await withFakeClock(async () => {
      const { db, reader, commits, writes } = await openPair(100);
      const insert = db.prepare<[string]>('INSERT INTO t (v) VALUES (?)');
      const rows = (): string[] => reader.prepare<[], string>('SELECT v FROM t ORDER BY v').pluck().all();
      const settled: string[] = [];
      const start = performance.now();
      const submit = (v: string, wait: Wait): void => writes.submit(() => insert.run(v), () => void settled.push(v), () => undefined, wait);
      submit('held', notBefore(30));
      const gridPoint = Math.ceil((start + 30) / 100) * 100;
      // The held write's timer is late by less than OVERDUE_MS, or not due: nothing yet.
      writes.runOverdue(start + 29);
      writes.runOverdue(gridPoint);
      expect(rows()).toEqual([]);
      writes.runOverdue(gridPoint + OVERDUE_MS);
      expect(rows()).toEqual(['held']);
      expect(settled).toEqual(['held']);
      // An end-of-turn write whose immediate has not run: committed once it is OVERDUE_MS late.
      const submittedAt = performance.now();
      submit('now', NOW);
      writes.runOverdue(submittedAt);
      expect(rows()).toEqual(['held']);
      writes.runOverdue(submittedAt + OVERDUE_MS);
      expect(rows()).toEqual(['held', 'now']);
      expect(commits()).toBe(2);
      // The immediate has still not run: the next overdue commit is measured from that one, not from the first submit.
      submit('next', NOW);
      writes.runOverdue(submittedAt + OVERDUE_MS + OVERDUE_MS / 2);
      expect(rows()).toEqual(['held', 'now']);
      writes.runOverdue(submittedAt + 2 * OVERDUE_MS);
      expect(rows()).toEqual(['held', 'next', 'now']);
      expect(commits()).toBe(3);
      // The timer and the immediate, when they do run, find nothing left to commit.
      await vi.advanceTimersByTimeAsync(200);
      expect(commits()).toBe(3);
      db.close();
      reader.close();
    });
  });

  it('with a sync of its own, settles a commit only when a sync begun after it is done; the commits made during one share the next', async () => {
    const disk = manualSync();
    const { db, reader, commits, writes } = await openPair(0, disk.sync);
    const insert = db.prepare<[string]>('INSERT INTO t (v) VALUES (?)');
    const rows = (): string[] => reader.prepare<[], string>('SELECT v FROM t ORDER BY id').pluck().all();
    const settled: string[] = [];
    const submit = (v: string): void => writes.submit(() => insert.run(v), () => void settled.push(v), () => void settled.push(`failed ${v}`));

    submit('a');
    await nextTurn();
    // Committed and visible, but not yet durable: nobody is told.
    expect([rows(), settled, disk.started()]).toEqual([['a'], [], 1]);
    submit('b');
    await nextTurn();
    submit('c');
    await nextTurn();
    // Two more commits while the first sync runs; no second sync until it is done.
    expect([commits(), disk.started(), settled]).toEqual([3, 1, []]);

    disk.finish();
    expect([settled, disk.started()]).toEqual([['a'], 2]);
    const idle = writes.settled();
    disk.finish();
    await idle;
    expect([settled, disk.started()]).toEqual([['a', 'b', 'c'], 2]);
    db.close();
    reader.close();
  });

  it('when a sync fails, fails the writes it covered and nothing else; the next commit syncs and settles as usual', async () => {
    const disk = manualSync();
    const { db, writes } = await openPair(0, disk.sync);
    const insert = db.prepare<[string]>('INSERT INTO t (v) VALUES (?)');
    const told: string[] = [];
    const submit = (v: string): void =>
      writes.submit(() => insert.run(v), () => void told.push(`ok ${v}`), (error) => void told.push(`${v}: ${(error as Error).message}`));
    submit('x');
    submit('y');
    await nextTurn();
    disk.finish(new Error('EIO: i/o error, fdatasync'));
    expect(told).toEqual(['x: EIO: i/o error, fdatasync', 'y: EIO: i/o error, fdatasync']);

    submit('z');
    await nextTurn();
    disk.finish();
    expect(told.at(-1)).toBe('ok z');
    db.close();
  });

  it('settled() waits for the sync of every commit made so far, and is at once when none is waiting', async () => {
    const disk = manualSync();
    const { db, writes } = await openPair(0, disk.sync);
    const insert = db.prepare<[string]>('INSERT INTO t (v) VALUES (?)');
    await writes.settled();
    let done = false;
    writes.submit(() => insert.run('w'), () => undefined, () => undefined);
    writes.flush();
    const idle = writes.settled().then(() => (done = true));
    await nextTurn();
    expect(done).toBe(false);
    disk.finish();
    await idle;
    expect(done).toBe(true);
    db.close();
  });

  it('settles a commit that changed no row at once, with no sync, when no earlier commit waits for one', async () => {
    const disk = manualSync();
    const { db, commits, writes } = await openPair(0, disk.sync);
    db.prepare('INSERT INTO t (v) VALUES (?)').run('kept');
    const ignore = db.prepare<[string]>('INSERT OR IGNORE INTO t (v) VALUES (?)');
    const count = db.prepare<[], number>('SELECT count(*) FROM t').pluck();
    const told: string[] = [];
    writes.submit(() => ignore.run('kept').changes, (changes) => void told.push(`ignored, ${changes} changed`), () => void told.push('failed'));
    writes.submit(() => count.get(), (rows) => void told.push(`read ${rows}`), () => void told.push('failed'));
    await nextTurn();
    expect([commits(), disk.started(), told]).toEqual([1, 0, ['ignored, 0 changed', 'read 1']]);
    db.close();
  });

  it('settles a commit that changed nothing only with the sync of the earlier commits it may have read, and fails it with that sync', async () => {
    const disk = manualSync();
    const { db, writes } = await openPair(0, disk.sync);
    const insert = db.prepare<[string]>('INSERT INTO t (v) VALUES (?)');
    const has = db.prepare<[string], number>('SELECT count(*) FROM t WHERE v = ?').pluck();
    const told: string[] = [];
    const write = (v: string): void => writes.submit(() => insert.run(v), () => void told.push(`ok ${v}`), (error) => void told.push(`${v}: ${(error as Error).message}`));
    const read = (v: string): void =>
      writes.submit(() => has.get(v), (n) => void told.push(`saw ${v} ${n}`), (error) => void told.push(`saw ${v}: ${(error as Error).message}`));

    // While the sync covering 'a' runs, a read of 'a' joins that sync; a read after 'b' (waiting for the next) joins the next.
    write('a');
    await nextTurn();
    read('a');
    await nextTurn();
    write('b');
    await nextTurn();
    read('b');
    await nextTurn();
    expect([disk.started(), told]).toEqual([1, []]);
    disk.finish();
    expect([disk.started(), told]).toEqual([2, ['ok a', 'saw a 1']]);
    disk.finish(new Error('EIO'));
    expect([disk.started(), told.slice(2)]).toEqual([2, ['b: EIO', 'saw b: EIO']]);
    db.close();
  });

  it('goes on syncing later commits when a writer told of a failed sync throws', async () => {
    const disk = manualSync();
    const { db, writes } = await openPair(0, disk.sync);
    const insert = db.prepare<[string]>('INSERT INTO t (v) VALUES (?)');
    writes.submit(
      () => insert.run('x'),
      () => undefined,
      () => {
        throw new Error('a broken listener');
      },
    );
    await nextTurn();
    expect(() => disk.finish(new Error('EIO'))).toThrow('a broken listener');
    let settled = false;
    writes.submit(() => insert.run('y'), () => (settled = true), () => undefined);
    await nextTurn();
    expect(disk.started()).toBe(2);
    disk.finish();
    expect(settled).toBe(true);
    db.close();
  });
});
