import Database from 'better-sqlite3-multiple-ciphers';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Message } from '../../app/shared/domain.js';
import { toHex } from '../../app/core/crypto/bytes.js';
import { randomBytes } from '../../app/core/crypto/random.js';
import { ContactsRepository } from '../../app/core/store/contacts-repo.js';
import { openDatabase, type Db } from '../../app/core/store/db.js';
import { MessagesRepository } from '../../app/core/store/messages-repo.js';
import { migrate, MIGRATIONS, SCHEMA_VERSION, schemaVersion } from '../../app/core/store/migrations.js';
import { codeOf } from '../support/error-code.js';

let dir: string;
let file: string;
const key = randomBytes(32);
const open: Db[] = [];

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'parley-store-'));
  file = path.join(dir, 'parley.db');
});
afterEach(async () => {
  for (const db of open.splice(0)) if (db.open) db.close();
  await rm(dir, { recursive: true, force: true });
});

function openMigrated(): Db {
  const db = openDatabase(file, key);
  open.push(db);
  migrate(db);
  return db;
}

/** Open with explicit cipher pragmas and read page 1, which throws when the cipher or key is not the file's. */
function openDirect(target: string, withKey: Uint8Array, cipherPragmas: string[]): Db {
  const db = new Database(target);
  try {
    for (const pragma of cipherPragmas) db.pragma(pragma);
    db.pragma(`hexkey = '${toHex(withKey)}'`);
    db.prepare('SELECT count(*) FROM sqlite_master').get();
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}

const message = (id: number, sentAt: number, text = `message ${id}`): Message => ({
  id: id.toString(16).padStart(32, '0'),
  contact: 'bob',
  direction: 'in',
  text,
  sentAt,
  status: 'received',
});

describe('migrations', () => {
  it('take an empty file to the current version, and a second run changes nothing', () => {
    const db = openDatabase(file, key);
    open.push(db);
    expect(schemaVersion(db)).toBe(0);
    migrate(db);
    expect(schemaVersion(db)).toBe(SCHEMA_VERSION);
    expect(SCHEMA_VERSION).toBe(MIGRATIONS.length);
    const tables = db.prepare<[], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all().map((row) => row.name);
    expect(tables).toEqual(expect.arrayContaining(['contacts', 'messages', 'profile']));
    migrate(db);
    expect(schemaVersion(db)).toBe(SCHEMA_VERSION);
  });

  it('migration 1 creates the tables the repositories use', () => {
    const db = openDatabase(file, key);
    open.push(db);
    migrate(db, MIGRATIONS.slice(0, 1));
    expect(schemaVersion(db)).toBe(1);
    db.prepare('INSERT INTO contacts (username, identity_key, agreement_key, added_at) VALUES (?, ?, ?, ?)').run('bob', randomBytes(32), randomBytes(32), 1);
    db.prepare("INSERT INTO messages (id, contact, direction, text, sent_at, status) VALUES (?, 'bob', 'in', 'hi', 1, 'received')").run(toHex(randomBytes(16)));
  });

  it('migration 2 keeps skeleton contacts and messages and adds a notice to each conversation', () => {
    const db = openDatabase(file, key);
    open.push(db);
    migrate(db, MIGRATIONS.slice(0, 1));
    const insertContact = db.prepare('INSERT INTO contacts (username, identity_key, agreement_key, added_at) VALUES (?, ?, ?, ?)');
    insertContact.run('bob', randomBytes(32), randomBytes(32), 1);
    insertContact.run('carol', randomBytes(32), randomBytes(32), 2);
    const old = message(1, 5, 'from the skeleton');
    db.prepare("INSERT INTO messages (id, contact, direction, text, sent_at, status) VALUES (?, ?, ?, ?, ?, ?)").run(old.id, old.contact, old.direction, old.text, old.sentAt, old.status);
    migrate(db);
    expect(schemaVersion(db)).toBe(SCHEMA_VERSION);
    const contacts = new ContactsRepository(db);
    expect(contacts.list().map((c) => [c.username, c.verified, c.identityChanged])).toEqual([['bob', false, false], ['carol', false, false]]);
    const page = new MessagesRepository(db).page('bob', 10);
    expect(page.find((m) => m.id === old.id)).toEqual(old);
    expect(page.filter((m) => m.kind === 'notice')).toHaveLength(1);
    expect(new MessagesRepository(db).page('carol', 10)).toEqual([]);
  });

  it('refuse a database written by a newer version', () => {
    const db = openMigrated();
    db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    expect(codeOf(() => migrate(db))).toBe('VAULT_CORRUPT');
  });
});

describe('encrypted database file', () => {
  it('cannot be opened without the key or with a wrong key', () => {
    openMigrated().close();
    const plain = new Database(file);
    try {
      expect(() => plain.prepare('SELECT count(*) FROM sqlite_master').get()).toThrow();
    } finally {
      plain.close();
    }
    expect(codeOf(() => openDatabase(file, randomBytes(32)))).toBe('VAULT_CORRUPT');
    const again = openDatabase(file, key);
    open.push(again);
    expect(schemaVersion(again)).toBe(SCHEMA_VERSION);
  });

  it('encrypts pages with AEGIS-256 under the given key, and nothing else opens the file', () => {
    openMigrated().close();
    // Opened here with the library directly, so the cipher settings are checked independently of db.ts.
    const direct = openDirect(file, key, ['cipher = aegis', "algorithm = 'aegis-256'", 'tcost = 1', 'mcost = 64']);
    expect(direct.prepare('SELECT count(*) AS n FROM sqlite_master').get()).toHaveProperty('n');
    direct.close();
    expect(() => openDirect(file, key, ["cipher = 'chacha20'"])).toThrow();
    expect(() => openDirect(file, key, ['cipher = aegis', "algorithm = 'aegis-128l'", 'tcost = 1', 'mcost = 64'])).toThrow();
  });

  it('re-encrypts a profile written under the older ChaCha20-Poly1305 cipher, keeping its data', async () => {
    const canary = `canary-${toHex(randomBytes(8))}-legacy`;
    const legacy = openDirect(file, key, ["cipher = 'chacha20'"]);
    legacy.pragma('journal_mode = WAL');
    migrate(legacy);
    new ContactsRepository(legacy).insert({ username: 'bob', identityKey: randomBytes(32), agreementKey: randomBytes(32), addedAt: 1 });
    new MessagesRepository(legacy).insert(message(1, 1, canary));
    legacy.close();

    const upgraded = openMigrated();
    expect(new MessagesRepository(upgraded).page('bob', 10).map((m) => m.text)).toEqual([canary]);
    upgraded.close();
    expect(() => openDirect(file, key, ["cipher = 'chacha20'"])).toThrow();
    for (const name of await readdir(dir)) expect((await readFile(path.join(dir, name))).includes(canary)).toBe(false);
    // Opening again takes the AEGIS path directly and still finds everything.
    expect(new MessagesRepository(openMigrated()).page('bob', 10)).toHaveLength(1);
  });

  it('holds no plaintext on disk, in the main file or the WAL', async () => {
    const canary = `canary-${toHex(randomBytes(8))}-text`;
    const db = openMigrated();
    new ContactsRepository(db).insert({ username: 'bob', identityKey: randomBytes(32), agreementKey: randomBytes(32), addedAt: 1 });
    new MessagesRepository(db).insert(message(1, 1, canary));
    const whileOpen = await readdir(dir);
    expect(whileOpen).toContain('parley.db-wal');
    for (const name of whileOpen) expect((await readFile(path.join(dir, name))).includes(canary)).toBe(false);
    db.close();
    for (const name of await readdir(dir)) expect((await readFile(path.join(dir, name))).includes(canary)).toBe(false);
  });
});

describe('repositories', () => {
  it('page a conversation chronologically, newest page first, with a cursor', () => {
    const db = openMigrated();
    new ContactsRepository(db).insert({ username: 'bob', identityKey: randomBytes(32), agreementKey: randomBytes(32), addedAt: 1 });
    const messages = new MessagesRepository(db);
    // Inserted out of order: the page order follows sentAt, not arrival.
    for (const [id, sentAt] of [[1, 10], [3, 30], [2, 20], [4, 40], [5, 50]] as const) messages.insert(message(id, sentAt));
    const newest = messages.page('bob', 2);
    expect(newest.map((m) => m.sentAt)).toEqual([40, 50]);
    const older = messages.page('bob', 2, newest[0]?.id);
    expect(older.map((m) => m.sentAt)).toEqual([20, 30]);
    const oldest = messages.page('bob', 2, older[0]?.id);
    expect(oldest.map((m) => m.sentAt)).toEqual([10]);
    expect(messages.page('bob', 2, 'f'.repeat(32))).toEqual([]);
    expect(messages.page('nobody', 2)).toEqual([]);
  });

  it('ignore a message id seen before and a contact added twice', () => {
    const db = openMigrated();
    const contacts = new ContactsRepository(db);
    const record = { username: 'bob', identityKey: randomBytes(32), agreementKey: randomBytes(32), addedAt: 1 };
    expect(contacts.insert(record)).toBe(true);
    expect(contacts.insert({ ...record, identityKey: randomBytes(32) })).toBe(false);
    expect(contacts.get('bob')?.identityKey).toEqual(record.identityKey);
    const messages = new MessagesRepository(db);
    expect(messages.insert(message(7, 1, 'first'))).toBe(true);
    expect(messages.insert(message(7, 2, 'second'))).toBe(false);
    expect(messages.get(message(7, 0).id)?.text).toBe('first');
  });

  it('list pending outgoing messages oldest first and update their status', () => {
    const db = openMigrated();
    new ContactsRepository(db).insert({ username: 'bob', identityKey: randomBytes(32), agreementKey: randomBytes(32), addedAt: 1 });
    const messages = new MessagesRepository(db);
    const out = (id: number): Message => ({ ...message(id, id), direction: 'out', status: 'pending' });
    messages.insert(out(2));
    messages.insert(out(1));
    messages.insert(message(3, 3));
    expect(messages.pendingIds()).toEqual([out(2).id, out(1).id]);
    expect(messages.setStatus(out(2).id, 'sent')?.status).toBe('sent');
    expect(messages.pendingIds()).toEqual([out(1).id]);
  });
});
