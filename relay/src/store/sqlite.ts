import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3-multiple-ciphers';
import { usernameSkeleton } from '../usernames.js';
import { BlobStore } from './blobs.js';
import { Checkpointer } from './checkpointer.js';
import { lockDataFolder, type ReleaseDataFolder } from './data-folder-lock.js';
import { sqliteStorageUsage } from './storage-usage.js';
import { migrate } from './migrations.js';
import { sqlitePrekeys } from './prekeys-sqlite.js';
import { DEFAULT_MAX_DELIVERED_IDS, DeliveredIds } from './delivered-ids.js';
import { ForeignCommits } from './foreign-commits.js';
import { QueueUsage } from './queue-usage.js';
import { WalSync } from './wal-sync.js';
import type { AckedEnvelope, EnqueueResult, LockStore, ReceiptStore, InviteRefusal, InviteStore, NewEnvelope, QueueCaps, QueuedEnvelope, QueueStore, RelayStore, UserRecord, UserStore } from './ports.js';

export const DATABASE_FILE = 'relay.sqlite';

interface UserRow {
  username: string;
  identity_key: Buffer;
  agreement_key: Buffer;
  agreement_sig: Buffer;
  registered_at: number;
}

interface QueueRow {
  seq: number;
  message_id: Buffer;
  envelope: Buffer;
  received_at: number;
  expires_at: number | null;
  receipt_box: Buffer | null;
}

function sqliteUsers(db: Database.Database, foreign: ForeignCommits): UserStore {
  // Every SEND asks whether its recipient exists: registered names are remembered. Only the admin tool (another
  // connection) deletes users, and its commit empties the cache.
  const known = new Set<string>();
  foreign.onChange(() => known.clear());
  const bySkeleton = db.prepare<[string], string>('SELECT username FROM users WHERE skeleton = ?').pluck();
  const banned = db.prepare<[string], number | null>('SELECT banned_at FROM users WHERE username = ?').pluck();
  const registered = db.prepare<[string], number>('SELECT 1 FROM users WHERE username = ?').pluck();
  const select = db.prepare<[string], UserRow>(
    'SELECT username, identity_key, agreement_key, agreement_sig, registered_at FROM users WHERE username = ?',
  );
  const insert = db.prepare<[string, Uint8Array, Uint8Array, Uint8Array, number, string]>(
    'INSERT INTO users (username, identity_key, agreement_key, agreement_sig, registered_at, skeleton) VALUES (?, ?, ?, ?, ?, ?)',
  );
  return {
    find(username) {
      const row = select.get(username);
      if (row === undefined) return undefined;
      return {
        username: row.username,
        identityKey: row.identity_key,
        agreementKey: row.agreement_key,
        agreementSig: row.agreement_sig,
        registeredAt: row.registered_at,
      };
    },
    create(user: UserRecord, skeleton: string) {
      insert.run(user.username, user.identityKey, user.agreementKey, user.agreementSig, user.registeredAt, skeleton);
    },
    takenBySkeleton: (skeleton) => bySkeleton.get(skeleton),
    bannedAt: (username) => banned.get(username) ?? undefined,
    exists(username) {
      foreign.check();
      if (known.has(username)) return true;
      if (registered.get(username) === undefined) return false;
      known.add(username);
      return true;
    },
  };
}

const NOTHING_PENDING: QueueCaps = { count: 0, bytes: 0 };

/** A page of a recipient's queue in arrival order: a range of the queue_recipient_seq index (migration 10). */
export const QUEUE_PAGE_SQL = `SELECT seq, message_id, envelope, received_at, expires_at, receipt_box FROM queue
  WHERE recipient = ? AND seq > ? AND (expires_at IS NULL OR expires_at > ?) ORDER BY seq LIMIT ?`;

/** A page of a sender's waiting receipts in arrival order: a range of the receipts_box_seq index (migration 10). */
export const RECEIPTS_PAGE_SQL = 'SELECT seq, message_id, acked_at FROM receipts WHERE box = ? AND seq > ? ORDER BY seq LIMIT ?';

/** The minute's purge: envelopes past the queue's age cap or their own expiry, by their indexes. */
export const PURGE_QUEUE_SQL = 'DELETE FROM queue WHERE received_at < ? OR expires_at <= ?';
/** Receipts older than the queue's age cap, by the receipts_acked_at index (migration 11). */
export const PURGE_RECEIPTS_SQL = 'DELETE FROM receipts WHERE acked_at < ?';

function sqliteQueue(db: Database.Database, usage: QueueUsage, deliveredIds: DeliveredIds): QueueStore {
  const queued = db.prepare<[string, Uint8Array], number>('SELECT 1 FROM queue WHERE recipient = ? AND message_id = ?').pluck();
  const total = db.prepare<[], number>('SELECT count(*) FROM queue').pluck();
  // The queue's UNIQUE (recipient, message_id) doubles as the duplicate check: no row inserted means already queued.
  const insert = db.prepare<[string, Uint8Array, Uint8Array, number, number | null, Uint8Array | null]>(
    'INSERT INTO queue (recipient, message_id, envelope, received_at, expires_at, receipt_box) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING',
  );
  const page = db.prepare<[string, number, number, number], QueueRow>(QUEUE_PAGE_SQL);
  const remove = db.prepare<[string, Uint8Array], { received_at: number; receipt_box: Buffer | null; bytes: number }>(
    'DELETE FROM queue WHERE recipient = ? AND message_id = ? RETURNING received_at, receipt_box, length(envelope) AS bytes',
  );
  const fileReceipt = db.prepare<[Uint8Array, Uint8Array, number]>('INSERT OR IGNORE INTO receipts (box, message_id, acked_at) VALUES (?, ?, ?)');
  const purge = db.prepare<[number, number]>(PURGE_QUEUE_SQL);
  const forgetReceipts = db.prepare<[number]>(PURGE_RECEIPTS_SQL);
  const ack = db.transaction((recipient: string, messageId: Uint8Array, now: number) => {
    const row = remove.get(recipient, messageId);
    if (row === undefined) return undefined;
    deliveredIds.add(recipient, messageId, now);
    if (row.receipt_box !== null) fileReceipt.run(row.receipt_box, messageId, now);
    return row;
  });
  const ackCounted = (recipient: string, messageId: Uint8Array, now: number): AckedEnvelope | undefined => {
    const row = ack(recipient, messageId, now);
    if (row === undefined) return undefined;
    // Counted only once the (nested) transaction has gone through.
    usage.removed(recipient, row.bytes);
    return { receivedAt: row.received_at, receiptBox: row.receipt_box };
  };
  const purgeAll = db.transaction((receivedBefore: number, now: number): number => {
    forgetReceipts.run(receivedBefore);
    return purge.run(receivedBefore, now).changes;
  });

  const admit = (recipient: string, messageId: Uint8Array, bytes: number, caps: QueueCaps, pending: QueueCaps): EnqueueResult => {
    if (deliveredIds.has(recipient, messageId)) return 'duplicate';
    const used = usage.get(recipient);
    if (used.count + pending.count >= caps.count || used.bytes + pending.bytes + bytes > caps.bytes) {
      // A retry of an envelope already waiting is still a duplicate, full queue or not.
      return queued.get(recipient, messageId) === undefined ? 'full' : 'duplicate';
    }
    return 'queued';
  };

  // No transaction of its own: its one write is a single INSERT, and the checks before it run on this (only) connection in the same tick.
  const enqueue = (recipient: string, item: NewEnvelope, caps: QueueCaps): EnqueueResult => {
    const admitted = admit(recipient, item.messageId, item.envelope.length, caps, NOTHING_PENDING);
    if (admitted !== 'queued') return admitted;
    const inserted = insert.run(recipient, item.messageId, item.envelope, item.receivedAt, item.expiresAt, item.receiptBox).changes;
    if (inserted === 0) return 'duplicate';
    usage.added(recipient, item.envelope.length);
    return 'queued';
  };

  return {
    enqueue: (recipient, item, caps) => enqueue(recipient, item, caps),
    page(recipient, afterSeq, limit, now): QueuedEnvelope[] {
      return page.all(recipient, afterSeq, now, limit).map((row) => ({
        seq: row.seq,
        messageId: row.message_id,
        envelope: row.envelope,
        receivedAt: row.received_at,
        expiresAt: row.expires_at,
        receiptBox: row.receipt_box,
      }));
    },
    ack: ackCounted,
    flushDelivered: () => deliveredIds.flush(),
    forgetDeliveredBefore: (before) => deliveredIds.forgetBefore(before),
    delivered(recipient, messageId, ackedAt, receiptBox) {
      deliveredIds.add(recipient, messageId, ackedAt);
      if (receiptBox !== null) fileReceipt.run(receiptBox, messageId, ackedAt);
    },
    admit,
    depth: (recipient) => usage.get(recipient).count,
    totalDepth: () => total.get() ?? 0,
    purge(receivedBefore, now) {
      const purged = purgeAll(receivedBefore, now);
      if (purged > 0) usage.forgetAll();
      return purged;
    },
  };
}

function sqliteReceipts(db: Database.Database): ReceiptStore {
  const page = db.prepare<[Uint8Array, number, number], { seq: number; message_id: Buffer; acked_at: number }>(RECEIPTS_PAGE_SQL);
  const remove = db.prepare<[Uint8Array, Uint8Array]>('DELETE FROM receipts WHERE box = ? AND message_id = ?');
  return {
    page: (box, afterSeq, limit) =>
      page.all(box, afterSeq, limit).map((row) => ({ seq: row.seq, messageId: row.message_id, ackedAt: row.acked_at })),
    remove: (box, messageId) => remove.run(box, messageId).changes > 0,
  };
}

function sqliteLocks(db: Database.Database): LockStore {
  const get = db.prepare<[string], { pending: string | null; secret: string | null; last_step: number }>(
    'SELECT pending, secret, last_step FROM registration_locks WHERE username = ?',
  );
  const setPending = db.prepare<[string, string]>(
    'INSERT INTO registration_locks (username, pending) VALUES (?, ?) ON CONFLICT (username) DO UPDATE SET pending = excluded.pending',
  );
  const enable = db.prepare<[number, number, string]>(
    'UPDATE registration_locks SET secret = pending, pending = NULL, enabled_at = ?, last_step = ? WHERE username = ?',
  );
  const disable = db.prepare<[string]>('DELETE FROM registration_locks WHERE username = ?');
  const used = db.prepare<[number, string]>('UPDATE registration_locks SET last_step = ? WHERE username = ?');
  const rebind = db.prepare<[Uint8Array, Uint8Array, Uint8Array, string]>(
    'UPDATE users SET identity_key = ?, agreement_key = ?, agreement_sig = ? WHERE username = ?',
  );
  return {
    get(username) {
      const row = get.get(username);
      return row === undefined ? undefined : { pending: row.pending, secret: row.secret, lastStep: row.last_step };
    },
    setPending: (username, secret) => void setPending.run(username, secret),
    enable: (username, now, step) => void enable.run(now, step, username),
    disable: (username) => void disable.run(username),
    used: (username, step) => void used.run(step, username),
    rebind: (user) => void rebind.run(user.identityKey, user.agreementKey, user.agreementSig, user.username),
  };
}

function sqliteInvites(db: Database.Database): InviteStore {
  const find = db.prepare<[Uint8Array], { id: string; max_uses: number; uses: number; expires_at: number | null; revoked_at: number | null }>(
    'SELECT id, max_uses, uses, expires_at, revoked_at FROM invites WHERE code_hash = ?',
  );
  const use = db.prepare<[string]>('UPDATE invites SET uses = uses + 1 WHERE id = ?');
  const redeem = db.transaction((code: string, now: number): InviteRefusal | undefined => {
    const invite = find.get(inviteCodeHash(code));
    if (invite === undefined) return 'unknown';
    if (invite.revoked_at !== null) return 'revoked';
    if (invite.expires_at !== null && invite.expires_at <= now) return 'expired';
    if (invite.uses >= invite.max_uses) return 'used-up';
    use.run(invite.id);
    return undefined;
  });
  return { redeem: (code, now) => redeem(code, now) };
}

/** Invite codes are kept only as this hash. */
export function inviteCodeHash(code: string): Uint8Array {
  return createHash('sha256').update(code, 'utf8').digest();
}

/** Give users registered before skeletons existed theirs (once; later opens find none missing). */
function backfillSkeletons(db: Database.Database): void {
  const missing = db.prepare<[], string>('SELECT username FROM users WHERE skeleton IS NULL').pluck().all();
  const set = db.prepare<[string, string]>('UPDATE users SET skeleton = ? WHERE username = ?');
  const taken = new Set<string>();
  db.transaction(() => {
    for (const username of missing) {
      const skeleton = usernameSkeleton(username);
      // Two old look-alikes both keep their accounts; the later one just has no skeleton guard.
      if (taken.has(skeleton)) continue;
      taken.add(skeleton);
      set.run(skeleton, username);
    }
  })();
}

/** SQLite's default: an automatic checkpoint once the log holds this many pages. */
const SQLITE_AUTOCHECKPOINT_PAGES = 1_000;

/**
 * The write-ahead log is cut back to this when it starts over after a checkpoint. The log keeps the size it grew to,
 * so without a limit a burst (a flood of envelopes for offline users, a full disk) would hold its disk for good. A
 * second's writes at full load stay well under it.
 */
export const WAL_SIZE_LIMIT_BYTES = 64 * 1024 * 1024;

/** Open the relay database in dataDir and migrate it; `create: false` opens only one that exists (the admin tool). */
export function openDatabase(dataDir: string, { create = true }: { readonly create?: boolean } = {}): Database.Database {
  if (create) mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const db = new Database(join(dataDir, DATABASE_FILE), { fileMustExist: !create });
  try {
    db.pragma('journal_mode = WAL');
    db.pragma(`journal_size_limit = ${WAL_SIZE_LIMIT_BYTES}`);
    // FULL: an OK for a SEND promises the envelope survives a power cut, not just a crash.
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
    migrate(db);
    backfillSkeletons(db);
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}

/** SQLite's max_page_count from a byte cap; it never goes below the pages the database already has. */
function capDatabase(db: Database.Database, maxBytes: number): void {
  if (maxBytes <= 0) return;
  const pageSize = Number(db.pragma('page_size', { simple: true }));
  db.pragma(`max_page_count = ${Math.max(1, Math.floor(maxBytes / pageSize))}`);
}

export interface SqliteStoreOptions {
  /** Most delivered ids remembered. Default DEFAULT_MAX_DELIVERED_IDS. */
  readonly maxDeliveredIds?: number;
  /** The database file never grows past this (its write-ahead log aside); writes that would are refused with SQLITE_FULL. 0: no cap. */
  readonly maxDatabaseBytes?: number;
  /** The checkpoint worker is gone: SQLite's own checkpoints have taken over. */
  readonly onCheckpointerFailed?: (error: Error) => void;
  /** A checkpoint failed (the first of a run of failures); the worker tries again. */
  readonly onCheckpointFailed?: (error: Error) => void;
}

/** The relay's store over its database. Holds only public keys and ciphertext, so it is not encrypted. */
export function openSqliteStore(dataDir: string, options: SqliteStoreOptions = {}): RelayStore {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  // Before the database is migrated or the blob folder swept: both belong to one relay at a time.
  const releaseFolder = lockDataFolder(dataDir);
  let db: Database.Database | undefined;
  try {
    db = openDatabase(dataDir);
    return sqliteStore(dataDir, db, releaseFolder, options);
  } catch (error) {
    if (db?.open === true) db.close();
    releaseFolder();
    throw error;
  }
}

function sqliteStore(dataDir: string, db: Database.Database, releaseFolder: ReleaseDataFolder, options: SqliteStoreOptions): RelayStore {
  capDatabase(db, options.maxDatabaseBytes ?? 0);
  const foreign = new ForeignCommits(db);
  const usage = new QueueUsage(db, foreign);
  const deliveredIds = new DeliveredIds(db, options.maxDeliveredIds ?? DEFAULT_MAX_DELIVERED_IDS);
  const transaction = db.transaction((work: () => void) => work());
  const atomic = db.transaction((work: () => unknown) => work());
  // Group commits leave the log's flush to walSync, off the loop; every other write still waits for it (FULL).
  const walSync = new WalSync(`${db.name}-wal`);
  const noFlushOnCommit = db.prepare('PRAGMA synchronous = NORMAL');
  const flushOnCommit = db.prepare('PRAGMA synchronous = FULL');
  // Rows changed by this connection since it opened, rolled back or not: a commit that leaves it as it was wrote nothing.
  const rowsChanged = db.prepare<[], number>('SELECT total_changes()').pluck();
  const transact = (work: () => void): boolean => {
    noFlushOnCommit.run();
    try {
      const before = rowsChanged.get();
      transaction(work);
      deliveredIds.committed();
      return rowsChanged.get() !== before;
    } catch (error) {
      // Rolled back: counts taken inside it may not hold, and the ids it appended are waiting again.
      usage.forgetAll();
      deliveredIds.rolledBack();
      throw error;
    } finally {
      flushOnCommit.run();
    }
  };
  // Checkpoints run in a worker; should it fail, SQLite's own (inside the commit that fills the log) take over again.
  db.pragma('wal_autocheckpoint = 0');
  const checkpointer = new Checkpointer(db.name, {
    onFailure(error) {
      db.pragma(`wal_autocheckpoint = ${SQLITE_AUTOCHECKPOINT_PAGES}`);
      options.onCheckpointerFailed?.(error);
    },
    onCheckpointFailed: (error) => options.onCheckpointFailed?.(error),
  });
  const close = (): void => {
    try {
      checkpointer.close();
      db.close();
      walSync.close();
    } finally {
      releaseFolder();
    }
  };
  return {
    transaction: transact,
    inTransaction: () => db.inTransaction,
    atomically: <T>(work: () => T): T => atomic(work) as T,
    syncCommitted: (done) => walSync.sync(done),
    databaseBytes: sqliteStorageUsage(db).databaseBytes,
    users: sqliteUsers(db, foreign),
    queue: sqliteQueue(db, usage, deliveredIds),
    prekeys: sqlitePrekeys(db),
    invites: sqliteInvites(db),
    receipts: sqliteReceipts(db),
    locks: sqliteLocks(db),
    blobs: new BlobStore(dataDir, db),
    close,
  };
}
