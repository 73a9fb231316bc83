/**
 * History benchmark: one profile with BENCH_MESSAGES messages (default 1,000,000) across BENCH_CONVERSATIONS
 * conversations (default 1,000), in the encrypted store and in an unencrypted database with the same schema and
 * data, built and measured side by side in this run. Prints insert rate, latest-page time, search p50/p95,
 * file size and unlock time, with encrypted/plain ratios.
 *   npm run bench:history            BENCH_MESSAGES=100000 npm run bench:history
 */
import Database from 'better-sqlite3-multiple-ciphers';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { deriveSubkey } from '../../app/core/crypto/kdf.js';
import { randomBytes } from '../../app/core/crypto/random.js';
import { loadSodium } from '../../app/core/crypto/sodium.js';
import { toHex } from '../../app/core/crypto/bytes.js';
import { HistoryService } from '../../app/core/services/history.js';
import { openDatabase, type Db } from '../../app/core/store/db.js';
import { MessagesRepository } from '../../app/core/store/messages-repo.js';
import { migrate } from '../../app/core/store/migrations.js';
import { createKeyring, openWithPassphrase } from '../../app/core/vault/keyring.js';

const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 1_000_000);
const CONVERSATIONS = Number(process.env.BENCH_CONVERSATIONS ?? 1_000);
const BATCH = 10_000;
const PAGE_SAMPLES = 300;
const SEARCH_SAMPLES = 300;
const PASSPHRASE = 'benchmark passphrase of reasonable strength';

/** Deterministic pseudo-random numbers, so both databases get the same data. */
function rng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SYLLABLES = ['ka', 'lo', 'mi', 'ter', 'san', 'vel', 'dor', 'ne', 'ri', 'po', 'qua', 'shi', 'ban', 'tu', 'gre', 'fal'];
function makeVocabulary(random: () => number, size: number): string[] {
  const words = new Set<string>();
  while (words.size < size) {
    let word = '';
    const parts = 2 + Math.floor(random() * 3);
    for (let i = 0; i < parts; i += 1) word += SYLLABLES[Math.floor(random() * SYLLABLES.length)];
    words.add(word);
  }
  return [...words];
}

/** Zipf-like pick: common words are common, as in real chat. */
function pick<T>(random: () => number, items: readonly T[]): T {
  return items[Math.floor(items.length * random() ** 3)] as T;
}

function percentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

function time(action: () => void): number {
  const start = process.hrtime.bigint();
  action();
  return Number(process.hrtime.bigint() - start) / 1e6;
}

function openPlain(file: string): Db {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('foreign_keys = ON');
  db.pragma('temp_store = MEMORY');
  db.pragma('secure_delete = ON');
  db.pragma('cache_size = -32768');
  return db;
}

interface Side {
  name: 'encrypted' | 'plain';
  file: string;
  db: Db;
  insertMs: number;
}

async function main(): Promise<void> {
  const sodium = await loadSodium();
  const dir = await mkdtemp(path.join(tmpdir(), 'parley-bench-history-'));
  try {
    const { vault, masterKey } = createKeyring(sodium, PASSPHRASE);
    const dbKey = deriveSubkey(sodium, masterKey, 'database');
    const encFile = path.join(dir, 'encrypted.db');
    const plainFile = path.join(dir, 'plain.db');
    const sides: Side[] = [
      { name: 'encrypted', file: encFile, db: openDatabase(encFile, dbKey), insertMs: 0 },
      { name: 'plain', file: plainFile, db: openPlain(plainFile), insertMs: 0 },
    ];
    for (const side of sides) migrate(side.db);

    const random = rng(42);
    const vocabulary = makeVocabulary(random, 5_000);
    const contacts = Array.from({ length: CONVERSATIONS }, (_, i) => `contact${String(i).padStart(4, '0')}`);
    for (const side of sides) {
      const insert = side.db.prepare('INSERT INTO contacts (username, identity_key, agreement_key, added_at) VALUES (?, ?, ?, 0)');
      side.db.transaction(() => contacts.forEach((name) => insert.run(name, Buffer.alloc(32), Buffer.alloc(32))))();
    }

    console.log(`Building ${MESSAGES.toLocaleString('en')} messages across ${CONVERSATIONS.toLocaleString('en')} conversations (batches of ${BATCH.toLocaleString('en')}, alternating databases)…`);
    const start = Date.UTC(2020, 0, 1);
    const span = 5 * 365 * 86_400_000;
    for (let done = 0; done < MESSAGES; done += BATCH) {
      const count = Math.min(BATCH, MESSAGES - done);
      const batch = Array.from({ length: count }, (_, i) => {
        const words = 4 + Math.floor(random() * 16);
        const text = Array.from({ length: words }, () => pick(random, vocabulary)).join(' ');
        return {
          id: toHex(randomBytes(16)),
          contact: contacts[Math.floor(random() * CONVERSATIONS)] ?? 'contact0000',
          direction: random() < 0.5 ? ('in' as const) : ('out' as const),
          text,
          sentAt: start + Math.floor(((done + i) / MESSAGES) * span),
          status: 'received' as const,
        };
      });
      for (const side of sides) {
        const repo = new MessagesRepository(side.db);
        side.insertMs += time(() => side.db.transaction(() => batch.forEach((message) => repo.insert(message)))());
      }
      if ((done / BATCH) % 20 === 19) console.log(`  ${(done + count).toLocaleString('en')} inserted`);
    }
    for (const side of sides) side.db.pragma('wal_checkpoint(TRUNCATE)');

    const queries = Array.from({ length: SEARCH_SAMPLES }, (_, i) => {
      const word = vocabulary[Math.floor(random() * vocabulary.length)] ?? 'kalo';
      const prefix = word.slice(0, 3 + Math.floor(random() * 3));
      const contact = contacts[Math.floor(random() * CONVERSATIONS)] ?? 'contact0000';
      return i % 3 === 0 ? `${prefix} in:${contact}` : i % 3 === 1 ? `${prefix} ${vocabulary[Math.floor(random() * 200)] ?? ''}` : prefix;
    });
    const pageContacts = Array.from({ length: PAGE_SAMPLES }, () => contacts[Math.floor(random() * CONVERSATIONS)] ?? 'contact0000');

    // Samples alternate between the databases, so load from elsewhere on the machine hits both alike.
    const measured = sides.map((side) => ({ side, repo: new MessagesRepository(side.db), history: new HistoryService(side.db), page: [] as number[], search: [] as number[] }));
    for (const contact of pageContacts) for (const m of measured) m.page.push(time(() => m.repo.page(contact, 50)));
    for (const query of queries) for (const m of measured) m.search.push(time(() => m.history.search(query, 50)));
    const results = new Map<string, { insertRate: number; pageP50: number; pageP95: number; searchP50: number; searchP95: number; size: number }>();
    for (const { side, page, search } of measured) {
      results.set(side.name, {
        insertRate: MESSAGES / (side.insertMs / 1000),
        pageP50: percentile(page, 50),
        pageP95: percentile(page, 95),
        searchP50: percentile(search, 50),
        searchP95: percentile(search, 95),
        size: (await stat(side.file)).size,
      });
      side.db.close();
    }

    // Unlock: Argon2id over the passphrase, open, first query. Plain: open, first query.
    const unlockEnc: number[] = [];
    const unlockPlain: number[] = [];
    for (let i = 0; i < 3; i += 1) {
      unlockEnc.push(
        time(() => {
          const key = openWithPassphrase(sodium, vault, PASSPHRASE);
          const db = openDatabase(encFile, deriveSubkey(sodium, key, 'database'));
          migrate(db);
          new MessagesRepository(db).page('contact0001', 50);
          db.close();
        }),
      );
      unlockPlain.push(
        time(() => {
          const db = openPlain(plainFile);
          migrate(db);
          new MessagesRepository(db).page('contact0001', 50);
          db.close();
        }),
      );
    }

    const enc = results.get('encrypted');
    const plain = results.get('plain');
    if (enc === undefined || plain === undefined) throw new Error('missing results');
    const rows: Array<[string, number, number, string, string]> = [
      ['insert rate (messages/s)', enc.insertRate, plain.insertRate, (plain.insertRate / enc.insertRate).toFixed(2), 'time ratio <= 1.3'],
      ['latest page p50 (ms)', enc.pageP50, plain.pageP50, (enc.pageP50 / plain.pageP50).toFixed(2), ''],
      ['latest page p95 (ms)', enc.pageP95, plain.pageP95, (enc.pageP95 / plain.pageP95).toFixed(2), '< 20 ms'],
      ['search p50 (ms)', enc.searchP50, plain.searchP50, (enc.searchP50 / plain.searchP50).toFixed(2), ''],
      ['search p95 (ms)', enc.searchP95, plain.searchP95, (enc.searchP95 / plain.searchP95).toFixed(2), '< 100 ms'],
      ['file size (MiB)', enc.size / 2 ** 20, plain.size / 2 ** 20, (enc.size / plain.size).toFixed(2), ''],
      ['unlock median (ms)', percentile(unlockEnc, 50), percentile(unlockPlain, 50), '-', '< 1000 ms (Argon2id + open)'],
    ];
    console.log(`\n${MESSAGES.toLocaleString('en')} messages, ${CONVERSATIONS.toLocaleString('en')} conversations`);
    console.log(`${'measure'.padEnd(28)}${'encrypted'.padStart(14)}${'plain'.padStart(14)}${'enc/plain'.padStart(11)}  target`);
    for (const [label, a, b, ratio, target] of rows) {
      console.log(`${label.padEnd(28)}${a.toFixed(a >= 100 ? 0 : 2).padStart(14)}${b.toFixed(b >= 100 ? 0 : 2).padStart(14)}${ratio.padStart(11)}  ${target}`);
    }
    console.log('(insert ratio is plain rate / encrypted rate, i.e. encrypted time / plain time)');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
