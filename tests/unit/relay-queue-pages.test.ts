import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type Database from 'better-sqlite3-multiple-ciphers';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PURGE_QUEUE_SQL, PURGE_RECEIPTS_SQL, QUEUE_PAGE_SQL, RECEIPTS_PAGE_SQL, openDatabase } from '../../relay/src/store/sqlite.js';

let dir: string;
let db: Database.Database;

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'parley-pages-'));
  db = openDatabase(dir);
});

afterEach(async () => {
  db.close();
  await rm(dir, { recursive: true, force: true });
});

/** SQLite's plan for a statement, one line per step. */
function plan(sql: string, ...params: unknown[]): string[] {
  return db
    .prepare<unknown[], { detail: string }>(`EXPLAIN QUERY PLAN ${sql}`)
    .all(...params)
    .map((step) => step.detail);
}

describe('relay queue and receipt pages', () => {
  // A page that has to sort made draining 10,000 queued envelopes take 0.7 s: each page sorted all that was left.
  it('reads a page of a queue as a range of an index in arrival order, with no sort', () => {
    const steps = plan(QUEUE_PAGE_SQL, 'bob', 0, Date.now(), 256);
    expect(steps.join('\n')).toContain('USING INDEX queue_recipient_seq (recipient=? AND seq>?)');
    expect(steps.join('\n')).not.toContain('TEMP B-TREE');
  });

  it('reads a page of waiting receipts the same way', () => {
    const steps = plan(RECEIPTS_PAGE_SQL, Buffer.alloc(32), 0, 256);
    expect(steps.join('\n')).toContain('USING INDEX receipts_box_seq (box=? AND seq>?)');
    expect(steps.join('\n')).not.toContain('TEMP B-TREE');
  });

  // The purge runs every minute on the event loop: a scan of 300,000 waiting receipts held every connection 17 ms.
  it('purges by age from indexes, never reading every waiting receipt or envelope', () => {
    const receipts = plan(PURGE_RECEIPTS_SQL, 0).join('\n');
    expect(receipts).toContain('SEARCH receipts USING INDEX receipts_acked_at (acked_at<?)');
    const queue = plan(PURGE_QUEUE_SQL, 0, 0).join('\n');
    expect(queue).toContain('SEARCH queue USING INDEX queue_received_at (received_at<?)');
    expect(queue).toContain('SEARCH queue USING INDEX queue_expires_at (expires_at<?)');
    expect(`${receipts}\n${queue}`).not.toContain('SCAN');
  });

  it('still pages a queue in arrival order, past envelopes of other recipients and expired ones', () => {
    db.pragma('foreign_keys = OFF');
    const insert = db.prepare('INSERT INTO queue (recipient, message_id, envelope, received_at, expires_at) VALUES (?, ?, ?, ?, ?)');
    const now = 1_000_000;
    for (let i = 0; i < 600; i++) {
      const recipient = i % 3 === 0 ? 'bob' : 'carol';
      // Every 10th of bob's has expired.
      insert.run(recipient, Buffer.from(`id-${i}`), Buffer.from([i % 256]), now, recipient === 'bob' && i % 30 === 0 ? now - 1 : null);
    }
    const page = db.prepare<[string, number, number, number], { seq: number; message_id: Buffer }>(QUEUE_PAGE_SQL);
    const seen: string[] = [];
    for (let after = 0; ; ) {
      const rows = page.all('bob', after, now, 64);
      seen.push(...rows.map((row) => row.message_id.toString()));
      const last = rows.at(-1);
      if (last === undefined || rows.length < 64) break;
      after = last.seq;
    }
    const expected = Array.from({ length: 600 }, (_, i) => i).filter((i) => i % 3 === 0 && i % 30 !== 0).map((i) => `id-${i}`);
    expect(seen).toEqual(expected);
  });
});
