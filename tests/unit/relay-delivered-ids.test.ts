import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3-multiple-ciphers';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DeliveredIds } from '../../relay/src/store/delivered-ids.js';
import { MIGRATIONS, migrate } from '../../relay/src/store/migrations.js';
import { DATABASE_FILE, openDatabase } from '../../relay/src/store/sqlite.js';

let dir: string;
const open: Database.Database[] = [];

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'parley-delivered-'));
});

afterEach(async () => {
  for (const db of open.splice(0)) db.close();
  await rm(dir, { recursive: true, force: true });
});

function database(): Database.Database {
  const db = openDatabase(dir);
  open.push(db);
  return db;
}

/** A relay's memory of delivered ids over this test's database, as after a (re)start. */
function memory(maxIds = 1_000): DeliveredIds {
  return new DeliveredIds(database(), maxIds);
}

const id = (): Uint8Array => new Uint8Array(randomBytes(16));

describe('delivered ids', () => {
  it('writes every id of a batch to its log, in full rows and the rest, NUL bytes included', () => {
    const ids = memory();
    // 40: one statement of 32 rows, then 8 alone; the first ids are all zeros and all ones.
    const acked = [new Uint8Array(16), new Uint8Array(16).fill(255), ...Array.from({ length: 38 }, id)];
    acked.forEach((messageId, i) => ids.add(i % 2 === 0 ? 'bob' : 'carol', messageId, 1_000 + i));
    ids.flush();
    const restarted = memory();
    expect(restarted.size).toBe(40);
    expect(acked.every((messageId, i) => restarted.has(i % 2 === 0 ? 'bob' : 'carol', messageId))).toBe(true);
    expect(acked.some((messageId, i) => restarted.has(i % 2 === 0 ? 'carol' : 'bob', messageId))).toBe(false);
  });

  it('knows an acked id before its batch is written, after, and after a restart; other ids and recipients are new', () => {
    const first = memory();
    const acked = id();
    expect(first.has('bob', acked)).toBe(false);
    first.add('bob', acked, 1_000);
    expect(first.has('bob', acked)).toBe(true);
    first.flush();
    expect(first.has('bob', acked)).toBe(true);

    const restarted = memory();
    expect(restarted.has('bob', acked)).toBe(true);
    expect(restarted.has('carol', acked)).toBe(false);
    expect(restarted.has('bob', id())).toBe(false);
  });

  it('knows ids added since it started, written or not', () => {
    const ids = memory();
    const written = id();
    const waiting = id();
    ids.add('bob', written, 1_000);
    ids.flush();
    ids.add('bob', waiting, 1_001);
    expect(ids.has('bob', written)).toBe(true);
    expect(ids.has('bob', waiting)).toBe(true);
    expect(ids.size).toBe(2);
  });

  it('holds at most maxIds, forgetting the oldest first, in memory and after a restart', () => {
    const ids = memory(3);
    const acked = [id(), id(), id(), id()];
    acked.forEach((messageId, i) => ids.add('bob', messageId, 1_000 + i));
    expect(acked.map((messageId) => ids.has('bob', messageId))).toEqual([false, true, true, true]);
    ids.flush();
    const restarted = memory(3);
    expect(acked.map((messageId) => restarted.has('bob', messageId))).toEqual([false, true, true, true]);
    expect(restarted.size).toBe(3);

    // A log longer than the window (written under a larger one): a restart loads its newest.
    const wide = memory(10);
    const more = [id(), id(), id(), id()];
    more.forEach((messageId, i) => wide.add('carol', messageId, 2_000 + i));
    wide.flush();
    const narrow = memory(3);
    expect(more.map((messageId) => narrow.has('carol', messageId))).toEqual([false, true, true, true]);
  });

  it('writes its waiting ids without being asked once 4,096 wait, so memory waiting for the log stays bounded', () => {
    const ids = memory(10_000);
    const logged = database().prepare<[], number>('SELECT count(*) FROM delivered_log').pluck();
    for (let i = 0; i < 4_095; i++) ids.add('bob', id(), 1_000);
    expect(logged.get()).toBe(0);
    ids.add('bob', id(), 1_000);
    expect(logged.get()).toBe(4_096);
  });

  it('forgets the ids acked before a time, in memory and in its log', () => {
    const ids = memory();
    const old = id();
    const recent = id();
    ids.add('bob', old, 1_000);
    ids.add('bob', recent, 5_000);
    ids.flush();
    expect(ids.has('bob', old)).toBe(true);
    ids.forgetBefore(5_000);
    expect(ids.has('bob', old)).toBe(false);
    expect(ids.has('bob', recent)).toBe(true);
    const restarted = memory();
    expect(restarted.has('bob', old)).toBe(false);
    expect(restarted.has('bob', recent)).toBe(true);
  });

  it('writes its log in ack order, whatever the ids', () => {
    const ids = memory();
    const acked = Array.from({ length: 50 }, () => id());
    acked.forEach((messageId, i) => ids.add(`user${i % 7}`, messageId, 1_000 + i));
    ids.flush();
    const other = new Database(path.join(dir, DATABASE_FILE), { readonly: true });
    open.push(other);
    // The table is keyed by ack time, so its natural order is the order of the acks.
    const logged = other.prepare<[], Buffer>('SELECT message_id FROM delivered_log').pluck().all();
    expect(logged.map((bytes) => Buffer.from(bytes).toString('hex'))).toEqual(acked.map((bytes) => Buffer.from(bytes).toString('hex')));
  });

  it('migration 9 moves the delivered ids of a version 8 database into the log', () => {
    const file = path.join(dir, DATABASE_FILE);
    const db = new Database(file);
    db.transaction(() => {
      for (const migration of MIGRATIONS.filter((m) => m.version <= 8)) db.exec(migration.sql);
      db.pragma('user_version = 8');
    })();
    const kept = id();
    db.prepare('INSERT INTO delivered (recipient, message_id, acked_at) VALUES (?, ?, ?)').run('bob', kept, 1_000);
    migrate(db);
    db.close();
    expect(memory().has('bob', kept)).toBe(true);
  });
});

describe('delivered ids: batches', () => {
  it('appends a batch of any size whole, in full statements and the rest one by one', () => {
    for (const size of [1, 31, 32, 33, 100]) {
      const ids = memory(10_000);
      const acked = Array.from({ length: size }, () => id());
      acked.forEach((messageId) => ids.add(`batch${size}`, messageId, 1_000));
      ids.flush();
      const restarted = memory(10_000);
      expect(acked.every((messageId) => restarted.has(`batch${size}`, messageId))).toBe(true);
    }
  });

  it('appends again the ids of an append whose transaction rolled back, with those acked since', () => {
    const db = database();
    const ids = new DeliveredIds(db, 1_000);
    const first = Array.from({ length: 40 }, id);
    first.forEach((messageId) => ids.add('bob', messageId, 1_000));
    // Appended inside a transaction that then fails (as a commit does on a full disk): none of its rows stay.
    expect(() =>
      db.transaction(() => {
        ids.flush();
        throw new Error('the commit failed');
      })(),
    ).toThrow('the commit failed');
    ids.rolledBack();
    expect(db.prepare('SELECT count(*) FROM delivered_log').pluck().get()).toBe(0);

    const later = id();
    ids.add('carol', later, 2_000);
    db.transaction(() => ids.flush())();
    ids.committed();
    const restarted = memory();
    expect(restarted.size).toBe(41);
    expect(first.every((messageId) => restarted.has('bob', messageId)) && restarted.has('carol', later)).toBe(true);
  });
});
