import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { randomBytes } from '../../app/core/crypto/random.js';
import { openDatabase, type Db } from '../../app/core/store/db.js';
import { migrate, MIGRATIONS, schemaVersion } from '../../app/core/store/migrations.js';

let dir: string;
let db: Db;

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'parley-migrations-'));
  db = openDatabase(path.join(dir, 'parley.db'), randomBytes(32));
});
afterEach(async () => {
  if (db.open) db.close();
  await rm(dir, { recursive: true, force: true });
});

/** Bring the database to schema `version` with the migrations up to it, as the Parley of that schema would. */
function migrateTo(version: number): void {
  migrate(db, MIGRATIONS.slice(0, version));
  expect(schemaVersion(db)).toBe(version);
}

function seedVersion1(): void {
  const blob = Buffer.alloc(32, 7);
  db.prepare(
    `INSERT INTO profile (id, username, relay_url, identity_key, identity_secret, agreement_key, agreement_secret, agreement_sig, created_at)
     VALUES (1, 'alice', 'ws://relay', ?, ?, ?, ?, ?, 1)`,
  ).run(blob, blob, blob, blob, blob);
  db.prepare(`INSERT INTO contacts (username, identity_key, agreement_key, added_at) VALUES ('bob', ?, ?, 2)`).run(blob, blob);
  const insert = db.prepare(`INSERT INTO messages (id, contact, direction, text, sent_at, status) VALUES (?, 'bob', ?, ?, ?, ?)`);
  insert.run('a'.repeat(32), 'out', 'meet at the lighthouse', 10, 'sent');
  insert.run('b'.repeat(32), 'in', 'bring the lantern please', 20, 'received');
}

describe('migrations', () => {
  it('every migration has the next number', () => {
    MIGRATIONS.forEach((migration, index) => expect(migration.version).toBe(index + 1));
  });

  it('1: profile, contacts and messages, from an empty database', () => {
    migrateTo(0);
    migrateTo(1);
    seedVersion1();
    expect(db.prepare('SELECT count(*) AS n FROM messages').get()).toEqual({ n: 2 });
  });

  it('2: sessions, prekeys and placeholders, from version 1 with data in it: conversations keep their messages and get a notice', () => {
    migrateTo(1);
    seedVersion1();
    migrateTo(2);
    const rows = db.prepare<[], { text: string; kind: string }>('SELECT text, kind FROM messages ORDER BY sent_at').all();
    expect(rows.slice(0, 2)).toEqual([
      { text: 'meet at the lighthouse', kind: 'text' },
      { text: 'bring the lantern please', kind: 'text' },
    ]);
    expect(rows).toHaveLength(3);
    expect(rows[2]?.kind).toBe('notice');
    expect(db.prepare('SELECT verified, identity_changed FROM contacts').get()).toEqual({ verified: 0, identity_changed: 0 });
    expect(db.prepare('SELECT count(*) AS n FROM sessions').get()).toEqual({ n: 0 });
  });

  it('3: settings, from version 2 with data in it', () => {
    migrateTo(2);
    seedVersion1();
    migrateTo(3);
    expect(db.prepare('SELECT count(*) AS n FROM messages').get()).toEqual({ n: 2 });
    db.prepare(`INSERT INTO settings (key, value) VALUES ('autoLockMinutes', '5')`).run();
    expect(db.prepare('SELECT value FROM settings').get()).toEqual({ value: '5' });
  });

  it('4: full-text index, from version 3 with data in it: existing messages are indexed, new ones follow', () => {
    migrateTo(3);
    seedVersion1();
    db.prepare(`INSERT INTO settings (key, value) VALUES ('autoLockMinutes', '5')`).run();
    migrateTo(4);
    const match = (query: string): unknown[] =>
      db.prepare<[string], { id: string }>('SELECT m.id FROM messages_fts JOIN messages m ON m.seq = messages_fts.rowid WHERE messages_fts MATCH ?').all(query).map((row) => row.id);
    expect(match('"lightho"*')).toEqual(['a'.repeat(32)]);
    expect(match('"lantern"')).toEqual(['b'.repeat(32)]);
    db.prepare(`INSERT INTO messages (id, contact, direction, text, sent_at, status) VALUES (?, 'bob', 'in', 'the lighthouse again', 30, 'received')`).run('c'.repeat(32));
    expect(match('"lighthouse"')).toHaveLength(2);
    db.prepare(`UPDATE messages SET text = 'changed words' WHERE id = ?`).run('a'.repeat(32));
    db.prepare(`DELETE FROM messages WHERE id = ?`).run('c'.repeat(32));
    expect(match('"lighthouse"')).toEqual([]);
    expect(match('"changed"')).toEqual(['a'.repeat(32)]);
    expect(db.prepare('SELECT value FROM settings').get()).toEqual({ value: '5' });
  });
});

describe('migration 5', () => {
  it('5: attachments, from version 4 with data in it', () => {
    migrateTo(4);
    seedVersion1();
    migrateTo(5);
    db.prepare(`INSERT INTO attachments (id, file_key, thumb_key, size, mime_type, created_at) VALUES (?, ?, NULL, 3, 'text/plain', 1)`).run('d'.repeat(32), Buffer.alloc(32));
    expect(db.prepare('SELECT count(*) AS n FROM attachments').get()).toEqual({ n: 1 });
    const hits = db.prepare(`SELECT rowid FROM messages_fts WHERE messages_fts MATCH '"lantern"'`).all();
    expect(hits).toHaveLength(1);
  });
});

describe('migration 6', () => {
  it('6: delivered status, from version 5 with data in it: rows, row ids, indexes, triggers and the search index survive', () => {
    migrateTo(5);
    seedVersion1();
    db.prepare(`UPDATE messages SET envelope = ? WHERE id = ?`).run(Buffer.from([1, 2, 3]), 'a'.repeat(32));
    const before = db.prepare('SELECT seq, id, contact, direction, text, sent_at, status, kind, error_code, envelope FROM messages ORDER BY seq').all();
    const names = (type: string): string[] =>
      db.prepare<[string], { name: string }>(`SELECT name FROM sqlite_master WHERE tbl_name = 'messages' AND type = ? ORDER BY name`).all(type).map((row) => row.name);
    const [indexesBefore, triggersBefore] = [names('index'), names('trigger')];
    migrateTo(6);
    expect(db.prepare('SELECT seq, id, contact, direction, text, sent_at, status, kind, error_code, envelope FROM messages ORDER BY seq').all()).toEqual(before);
    expect(names('index')).toEqual(indexesBefore);
    expect(names('trigger')).toEqual(triggersBefore);
    expect(triggersBefore).toHaveLength(3);

    db.prepare(`UPDATE messages SET status = 'delivered' WHERE id = ?`).run('a'.repeat(32));
    expect(db.prepare('SELECT status FROM messages WHERE id = ?').get('a'.repeat(32))).toEqual({ status: 'delivered' });
    expect(() => db.prepare(`UPDATE messages SET status = 'read' WHERE id = ?`).run('a'.repeat(32))).toThrow(/CHECK/);
    // The search index still points at the same rows, and the triggers keep it in step.
    const match = (query: string): string[] =>
      db.prepare<[string], { id: string }>('SELECT m.id FROM messages_fts JOIN messages m ON m.seq = messages_fts.rowid WHERE messages_fts MATCH ?').all(query).map((row) => row.id);
    expect(match('"lantern"')).toEqual(['b'.repeat(32)]);
    db.prepare(`INSERT INTO messages (id, contact, direction, text, sent_at, status) VALUES (?, 'bob', 'out', 'a lantern too', 30, 'pending')`).run('c'.repeat(32));
    expect(match('"lantern"').sort()).toEqual(['b'.repeat(32), 'c'.repeat(32)]);
    const seq = db.prepare<[string], { seq: number }>('SELECT seq FROM messages WHERE id = ?').get('c'.repeat(32))?.seq;
    expect(seq).toBeGreaterThan(Math.max(...before.map((row) => (row as { seq: number }).seq)));
    expect(() => db.exec(`INSERT INTO messages_fts (messages_fts) VALUES ('integrity-check')`)).not.toThrow();
    expect(db.pragma('foreign_key_check')).toEqual([]);
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
  });
});
