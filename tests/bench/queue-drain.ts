/**
 * Draining one user's full queue (10,000 envelopes of 1 KiB, among 20 users' 200,000) page by page, as the relay
 * does when that user comes back online: through the queue_recipient_seq index, against the same database with the
 * index dropped (each page then sorts every row the user has left), measured in the same run.
 * Run: npm run bench:queue-drain
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DRAIN_PAGE_SIZE } from '../../relay/src/delivery/queue-drain.js';
import { QUEUE_PAGE_SQL, openDatabase } from '../../relay/src/store/sqlite.js';

const USERS = 20;
const PER_USER = 10_000;
const ROUNDS = 3;

const dir = await mkdtemp(join(tmpdir(), 'parley-bench-drain-'));
const db = openDatabase(dir);
try {
  // Envelopes only: the users table is not what is measured.
  db.pragma('foreign_keys = OFF');
  const insert = db.prepare('INSERT INTO queue (recipient, message_id, envelope, received_at) VALUES (?, ?, ?, ?)');
  const envelope = randomBytes(1024);
  db.transaction(() => {
    // Interleaved, as envelopes for many people arrive.
    for (let i = 0; i < USERS * PER_USER; i++) insert.run(`user${i % USERS}`, randomBytes(16), envelope, Date.now());
  })();

  /** ms to read every page of one user's queue, the best of ROUNDS (each round a different user). */
  const drain = (): number => {
    const page = db.prepare<[string, number, number, number], { seq: number }>(QUEUE_PAGE_SQL);
    let fastest = Number.POSITIVE_INFINITY;
    for (let round = 0; round < ROUNDS; round++) {
      const started = performance.now();
      let rows = 0;
      for (let after = 0; ; ) {
        const rowsOfPage = page.all(`user${round}`, after, Date.now(), DRAIN_PAGE_SIZE);
        rows += rowsOfPage.length;
        const last = rowsOfPage.at(-1);
        if (last === undefined || rowsOfPage.length < DRAIN_PAGE_SIZE) break;
        after = last.seq;
      }
      if (rows !== PER_USER) throw new Error(`drained ${rows} of ${PER_USER}`);
      fastest = Math.min(fastest, performance.now() - started);
    }
    return fastest;
  };

  const indexed = drain();
  db.exec('DROP INDEX queue_recipient_seq');
  const sorted = drain();
  console.log(`Parley queue drain: ${PER_USER} envelopes of 1 KiB among ${USERS * PER_USER}, pages of ${DRAIN_PAGE_SIZE}, best of ${ROUNDS}`);
  console.log(`through the (recipient, seq) index: ${indexed.toFixed(1)} ms`);
  console.log(`without it (each page sorts what is left): ${sorted.toFixed(1)} ms`);
  console.log(`indexed / without: ${(indexed / sorted).toFixed(2)} (target <= 0.5)`);
} finally {
  db.close();
  await rm(dir, { recursive: true, force: true });
}
