import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3-multiple-ciphers';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { deleteUser } from '../../relay/src/admin/operations.js';
import type { NewEnvelope, QueueCaps, RelayStore } from '../../relay/src/store/ports.js';
import { DATABASE_FILE, openDatabase, openSqliteStore } from '../../relay/src/store/sqlite.js';

const CAPS: QueueCaps = { count: 5, bytes: 1000 };
let dir: string;
let store: RelayStore | undefined;

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'parley-queue-usage-'));
});

afterEach(async () => {
  store?.close();
  store = undefined;
  await rm(dir, { recursive: true, force: true });
});

function open(): RelayStore {
  store?.close();
  store = openSqliteStore(dir);
  return store;
}

function addUser(s: RelayStore, username: string): void {
  s.users.create({ username, identityKey: randomBytes(32), agreementKey: randomBytes(32), agreementSig: randomBytes(64), registeredAt: 1 }, username);
}

function envelope(bytes: number, receivedAt = 1_000): NewEnvelope {
  return { messageId: randomBytes(16), envelope: randomBytes(bytes), receivedAt, expiresAt: null, receiptBox: null };
}

/** The store's depth must equal what a scan of the queue (from a connection of its own) says. */
function expectUsageMatchesQueue(s: RelayStore, recipients: readonly string[]): void {
  const db = new Database(path.join(dir, DATABASE_FILE), { readonly: true });
  try {
    const count = db.prepare<[string], number>('SELECT count(*) FROM queue WHERE recipient = ?').pluck();
    for (const recipient of recipients) expect(s.queue.depth(recipient)).toBe(count.get(recipient));
  } finally {
    db.close();
  }
}

describe('per-recipient queue usage', () => {
  it('enforces the count and byte caps exactly, and frees room on ack and purge', () => {
    const s = open();
    addUser(s, 'bob');
    const first = envelope(400);
    expect(s.queue.enqueue('bob', first, CAPS)).toBe('queued');
    expect(s.queue.enqueue('bob', envelope(600), CAPS)).toBe('queued');
    // Exactly at the byte cap: one more byte does not fit.
    expect(s.queue.enqueue('bob', envelope(1), CAPS)).toBe('full');
    // A retry of a queued envelope is a duplicate even when the queue is full.
    expect(s.queue.enqueue('bob', first, CAPS)).toBe('duplicate');
    expect(s.queue.depth('bob')).toBe(2);
    expectUsageMatchesQueue(s, ['bob']);

    expect(s.queue.ack('bob', first.messageId, 2_000)).toBeDefined();
    // Acked: a late retry stays a duplicate and takes no room.
    expect(s.queue.enqueue('bob', first, CAPS)).toBe('duplicate');
    expect(s.queue.enqueue('bob', envelope(400), CAPS)).toBe('queued');
    expect(s.queue.enqueue('bob', envelope(1), CAPS)).toBe('full');
    expectUsageMatchesQueue(s, ['bob']);

    // Everything received before 1_500 goes: both envelopes left are from 1_000.
    expect(s.queue.purge(1_500, 1_500)).toBe(2);
    expect(s.queue.depth('bob')).toBe(0);
    expectUsageMatchesQueue(s, ['bob']);
    for (let i = 0; i < CAPS.count; i += 1) expect(s.queue.enqueue('bob', envelope(10), CAPS)).toBe('queued');
    expect(s.queue.enqueue('bob', envelope(10), CAPS)).toBe('full');
    expectUsageMatchesQueue(s, ['bob']);
  });

  it('purges receipts waiting longer than the queue keeps envelopes, and keeps younger ones', () => {
    const s = open();
    addUser(s, 'bob');
    const box = randomBytes(16);
    const [older, younger] = [{ ...envelope(10), receiptBox: box }, { ...envelope(10), receiptBox: box }];
    for (const item of [older, younger]) s.queue.enqueue('bob', item, CAPS);
    s.queue.ack('bob', older.messageId, 1_200);
    s.queue.ack('bob', younger.messageId, 1_800);
    expect(s.receipts.page(box, 0, 10).map((receipt) => receipt.ackedAt)).toEqual([1_200, 1_800]);
    s.queue.purge(1_500, 1_500);
    expect(s.receipts.page(box, 0, 10).map((receipt) => receipt.ackedAt)).toEqual([1_800]);
  });

  it('survives a restart and an admin delete', async () => {
    let s = open();
    addUser(s, 'bob');
    addUser(s, 'carol');
    for (let i = 0; i < 3; i += 1) expect(s.queue.enqueue('bob', envelope(300), CAPS)).toBe('queued');
    expect(s.queue.enqueue('carol', envelope(50), CAPS)).toBe('queued');
    s.close();
    store = undefined;

    s = open();
    expect(s.queue.depth('bob')).toBe(3);
    expect(s.queue.enqueue('bob', envelope(101), CAPS)).toBe('full');
    expect(s.queue.enqueue('bob', envelope(100), CAPS)).toBe('queued');
    expectUsageMatchesQueue(s, ['bob', 'carol']);

    // The admin tool works on the database directly, from its own connection.
    const db = openDatabase(dir);
    try {
      deleteUser(db, 'bob', new Uint8Array(16));
    } finally {
      db.close();
    }
    // The relay looks for other connections' commits at most once a millisecond: the first look after it sees this one.
    await vi.waitFor(() => expect(s.queue.depth('bob')).toBe(0));
    expect(s.queue.depth('carol')).toBe(1);
    expectUsageMatchesQueue(s, ['bob', 'carol']);
    addUser(s, 'bob');
    expect(s.queue.enqueue('bob', envelope(1000), CAPS)).toBe('queued');
    expectUsageMatchesQueue(s, ['bob', 'carol']);
  });

  it('forgets what a rolled-back transaction counted', () => {
    const s = open();
    addUser(s, 'bob');
    expect(s.queue.enqueue('bob', envelope(900), CAPS)).toBe('queued');
    expect(() =>
      s.transaction(() => {
        expect(s.queue.enqueue('bob', envelope(100), CAPS)).toBe('queued');
        throw new Error('the commit did not happen');
      }),
    ).toThrow('the commit did not happen');
    expectUsageMatchesQueue(s, ['bob']);
    expect(s.queue.enqueue('bob', envelope(100), CAPS)).toBe('queued');
    expect(s.queue.enqueue('bob', envelope(1), CAPS)).toBe('full');
  });
});
