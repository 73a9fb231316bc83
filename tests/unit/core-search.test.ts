import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Message } from '../../app/shared/domain.js';
import { randomBytes } from '../../app/core/crypto/random.js';
import { toHex } from '../../app/core/crypto/bytes.js';
import { openDatabase, type Db } from '../../app/core/store/db.js';
import { migrate } from '../../app/core/store/migrations.js';
import { MessagesRepository } from '../../app/core/store/messages-repo.js';
import { parseSearchQuery } from '../../app/core/store/search-query.js';
import { HistoryService } from '../../app/core/services/history.js';
import { codeOf } from '../support/error-code.js';

let dir: string;
let db: Db;
let history: HistoryService;
let messages: MessagesRepository;

const DAY = 86_400_000;
const T0 = Date.UTC(2024, 4, 1);

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'parley-search-'));
  db = openDatabase(path.join(dir, 'parley.db'), randomBytes(32));
  migrate(db);
  for (const name of ['bob', 'carol']) db.prepare(`INSERT INTO contacts (username, identity_key, agreement_key, added_at) VALUES (?, x'00', x'00', 0)`).run(name);
  messages = new MessagesRepository(db);
  history = new HistoryService(db);
});
afterEach(async () => {
  db.close();
  await rm(dir, { recursive: true, force: true });
});

function add(contact: string, direction: Message['direction'], text: string, sentAt: number): string {
  const id = toHex(randomBytes(16));
  messages.insert({ id, contact, direction, text, sentAt, status: direction === 'in' ? 'received' : 'sent' });
  return id;
}

describe('search query', () => {
  it('splits words from filters', () => {
    expect(parseSearchQuery('Light from:Bob in:carol before:2024-05-03 after:2024-05-01 ho"use')).toEqual({
      terms: ['Light', 'house'],
      from: 'bob',
      in: 'carol',
      before: Date.UTC(2024, 4, 3),
      after: Date.UTC(2024, 4, 2),
    });
  });

  it('refuses empty queries, empty filters and impossible dates with SEARCH_BAD_QUERY', () => {
    for (const bad of ['   ', 'from:', 'before:2024-02-30', 'after:yesterday']) expect(codeOf(() => parseSearchQuery(bad)), bad).toBe('SEARCH_BAD_QUERY');
  });
});

describe('history search (FTS5 inside the encrypted database)', () => {
  it('matches word prefixes, newest first, whatever the case or accents', () => {
    const older = add('bob', 'in', 'Meet me at the lighthouse', T0);
    const newer = add('carol', 'out', 'The LIGHTHOUSE keeper says hi', T0 + DAY);
    add('bob', 'in', 'nothing to see', T0 + 2 * DAY);
    add('bob', 'in', 'Café crème', T0 + 3 * DAY);
    expect(history.search('light').map((hit) => hit.message.id)).toEqual([newer, older]);
    expect(history.search('cafe creme')).toHaveLength(1);
    expect(history.search('lighthouse keeper')[0]?.snippet).toContain('keeper');
    expect(history.search('zebra')).toEqual([]);
  });

  it('applies from:, in:, before: and after:', () => {
    const fromBob = add('bob', 'in', 'lantern one', T0);
    const toBob = add('bob', 'out', 'lantern two', T0 + DAY);
    const fromCarol = add('carol', 'in', 'lantern three', T0 + 2 * DAY);
    const ids = (query: string): string[] => history.search(query).map((hit) => hit.message.id);
    expect(ids('lantern from:bob')).toEqual([fromBob]);
    expect(ids('lantern from:me')).toEqual([toBob]);
    expect(ids('lantern in:bob')).toEqual([toBob, fromBob]);
    expect(ids('lantern before:2024-05-02')).toEqual([fromBob]);
    expect(ids('lantern after:2024-05-02')).toEqual([fromCarol]);
    expect(ids('in:carol')).toEqual([fromCarol]);
  });

  it('treats FTS5 syntax in the query as words, never as an error of the store', () => {
    add('bob', 'in', 'a AND b OR c', T0);
    expect(codeOf(() => history.search('AND OR NOT ( ) * ^ :'))).toBeUndefined();
    expect(history.search('AND')).toHaveLength(1);
  });
});

describe('jump to a message or a date', () => {
  it('returns the page around a message id, in chronological order', () => {
    const ids = Array.from({ length: 20 }, (_, i) => add('bob', 'in', `message ${i}`, T0 + i * DAY));
    const page = history.around('bob', { id: ids[10] ?? '' }, 6);
    expect(page.map((message) => message.id)).toEqual(ids.slice(7, 13));
  });

  it('returns the page at the first message on or after a date, or the latest page past the end', () => {
    const ids = Array.from({ length: 20 }, (_, i) => add('bob', 'in', `message ${i}`, T0 + i * DAY));
    expect(history.around('bob', { at: T0 + 4.5 * DAY }, 4).map((message) => message.id)).toEqual(ids.slice(3, 7));
    expect(history.around('bob', { at: T0 + 100 * DAY }, 3).map((message) => message.id)).toEqual(ids.slice(17));
    expect(history.around('carol', { at: T0 }, 3)).toEqual([]);
  });

  it('shows an undecryptable placeholder on a jumped-to page as the latest page does, with its code', () => {
    add('bob', 'in', 'before', T0);
    const placeholder: Message = { id: toHex(randomBytes(16)), contact: 'bob', direction: 'in', text: '', sentAt: T0 + DAY, status: 'received', kind: 'undecryptable', errorCode: 'DECRYPT_FAILED' };
    messages.insert(placeholder);
    expect(history.around('bob', { id: placeholder.id }, 4).find((message) => message.id === placeholder.id)).toEqual(placeholder);
    expect(history.around('bob', { at: T0 }, 4).find((message) => message.id === placeholder.id)).toEqual(placeholder);
  });
});
