import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Message } from '../../app/shared/domain.js';
import { randomBytes } from '../../app/core/crypto/random.js';
import { ContactsRepository } from '../../app/core/store/contacts-repo.js';
import { openDatabase, type Db } from '../../app/core/store/db.js';
import { MessagesRepository } from '../../app/core/store/messages-repo.js';
import { migrate } from '../../app/core/store/migrations.js';

let dir: string;
let db: Db;
let messages: MessagesRepository;

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'parley-status-'));
  db = openDatabase(path.join(dir, 'parley.db'), randomBytes(32));
  migrate(db);
  new ContactsRepository(db).insert({ username: 'bob', identityKey: new Uint8Array(32).fill(1), agreementKey: new Uint8Array(32).fill(2), addedAt: 1 });
  messages = new MessagesRepository(db);
});
afterEach(async () => {
  db.close();
  await rm(dir, { recursive: true, force: true });
});

const outgoing = (id: string, status: Message['status']): Message => ({ id, contact: 'bob', direction: 'out', text: 'hi', sentAt: 1, status });

describe('message status only moves forward', () => {
  it('a receipt that overtakes the OK stays delivered; the late OK changes nothing', () => {
    messages.insert(outgoing('a'.repeat(32), 'pending'));
    expect(messages.advanceStatus('a'.repeat(32), 'delivered', ['pending', 'sent'])?.status).toBe('delivered');
    expect(messages.advanceStatus('a'.repeat(32), 'sent', ['pending'])).toBeUndefined();
    expect(messages.get('a'.repeat(32))?.status).toBe('delivered');
  });

  it('never marks an incoming or a failed message delivered, nor an unknown id', () => {
    messages.insert({ ...outgoing('b'.repeat(32), 'received'), direction: 'in' });
    messages.insert(outgoing('c'.repeat(32), 'failed'));
    expect(messages.advanceStatus('b'.repeat(32), 'delivered', ['pending', 'sent', 'received'])).toBeUndefined();
    expect(messages.advanceStatus('c'.repeat(32), 'delivered', ['pending', 'sent'])).toBeUndefined();
    expect(messages.advanceStatus('d'.repeat(32), 'delivered', ['pending', 'sent'])).toBeUndefined();
    expect(messages.get('b'.repeat(32))?.status).toBe('received');
    expect(messages.get('c'.repeat(32))?.status).toBe('failed');
  });
});
