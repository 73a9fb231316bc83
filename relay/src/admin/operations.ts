import { randomBytes } from 'node:crypto';
import type Database from 'better-sqlite3-multiple-ciphers';
import { inviteCodeHash } from '../store/sqlite.js';
import { sqliteStorageUsage } from '../store/storage-usage.js';

/** What the operator's tool does to a relay's database. The relay may be running: SQLite (WAL) serialises the writes. */

export interface InviteSummary {
  readonly id: string;
  readonly maxUses: number;
  readonly uses: number;
  readonly createdAt: number;
  readonly expiresAt: number | null;
  readonly revokedAt: number | null;
}

export interface AdminUser {
  readonly username: string;
  readonly registeredAt: number;
  readonly bannedAt: number | null;
  readonly banReason: string | null;
  readonly queued: number;
}

export interface RelayStats {
  readonly users: number;
  readonly banned: number;
  readonly queuedEnvelopes: number;
  readonly queuedBytes: number;
  readonly activeInvites: number;
  /** The database's pages, including those still in its write-ahead log: what maxDatabaseBytes caps. */
  readonly databaseBytes: number;
  /** Attachment blobs not yet expired. */
  readonly blobBytes: number;
}

/** What a delete removed, table by table. */
export type Deleted = Readonly<Record<string, number>>;

/** What a delete left for others but no longer ties to the name: envelopes it sent that wait in queues, blobs it uploaded. */
export interface Untied {
  /** Their receipt is no longer asked for: it would go to whoever takes the name next. */
  readonly sentEnvelopes: number;
  /** Left for their recipients until they expire, counted against no one's quota. */
  readonly blobs: number;
}

export class AdminError extends Error {
  constructor(
    readonly code: 'USER_NOT_FOUND' | 'INVITE_NOT_FOUND' | 'ALREADY' | 'NO_RELAY_DATA' | 'BACKUP_DESTINATION_NOT_EMPTY',
    message: string,
  ) {
    super(message);
    this.name = 'AdminError';
  }
}

export function createInvite(db: Database.Database, options: { maxUses: number; expiresAt: number | null; now: number }): { id: string; code: string } {
  const id = randomBytes(4).toString('hex');
  // 120 bits: unguessable, short enough to read out over the phone in base64url.
  const code = randomBytes(15).toString('base64url');
  db.prepare('INSERT INTO invites (id, code_hash, max_uses, created_at, expires_at) VALUES (?, ?, ?, ?, ?)').run(
    id,
    inviteCodeHash(code),
    options.maxUses,
    options.now,
    options.expiresAt,
  );
  return { id, code };
}

export function listInvites(db: Database.Database): InviteSummary[] {
  return db
    .prepare<[], { id: string; max_uses: number; uses: number; created_at: number; expires_at: number | null; revoked_at: number | null }>(
      'SELECT id, max_uses, uses, created_at, expires_at, revoked_at FROM invites ORDER BY created_at, id',
    )
    .all()
    .map((row) => ({ id: row.id, maxUses: row.max_uses, uses: row.uses, createdAt: row.created_at, expiresAt: row.expires_at, revokedAt: row.revoked_at }));
}

export function revokeInvite(db: Database.Database, id: string, now: number): void {
  const changed = db.prepare('UPDATE invites SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL').run(now, id).changes;
  if (changed === 0) {
    const exists = db.prepare('SELECT 1 FROM invites WHERE id = ?').get(id) !== undefined;
    throw exists ? new AdminError('ALREADY', `invite ${id} is already revoked`) : new AdminError('INVITE_NOT_FOUND', `no invite ${id}`);
  }
}

export function listUsers(db: Database.Database): AdminUser[] {
  return db
    .prepare<[], { username: string; registered_at: number; banned_at: number | null; ban_reason: string | null; queued: number }>(
      `SELECT u.username, u.registered_at, u.banned_at, u.ban_reason,
              (SELECT count(*) FROM queue q WHERE q.recipient = u.username) AS queued
       FROM users u ORDER BY u.username`,
    )
    .all()
    .map((row) => ({ username: row.username, registeredAt: row.registered_at, bannedAt: row.banned_at, banReason: row.ban_reason, queued: row.queued }));
}

function requireUser(db: Database.Database, username: string): void {
  if (db.prepare('SELECT 1 FROM users WHERE username = ?').get(username) === undefined) {
    throw new AdminError('USER_NOT_FOUND', `no user ${username}`);
  }
}

export function banUser(db: Database.Database, username: string, reason: string | null, now: number): void {
  requireUser(db, username);
  db.prepare('UPDATE users SET banned_at = ?, ban_reason = ? WHERE username = ?').run(now, reason, username);
}

export function unbanUser(db: Database.Database, username: string): void {
  requireUser(db, username);
  db.prepare('UPDATE users SET banned_at = NULL, ban_reason = NULL WHERE username = ?').run(username);
}

/** Tables (other than users) that hold rows keyed by a user's name: prekeys and anything later that follows the convention. */
function tablesKeyedByUsername(db: Database.Database): string[] {
  const tables = db.prepare<[], string>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'").pluck().all();
  return tables.filter(
    (table) =>
      table !== 'users' &&
      db
        .prepare<[string], string>('SELECT name FROM pragma_table_info(?)')
        .pluck()
        .all(table)
        .includes('username'),
  );
}

/**
 * Remove the account, everything stored under its name (prekeys) and its queue, in one transaction. The name becomes
 * free. `receiptBox` is the name's receipt box: the receipts waiting for it go too, and what others still hold of the
 * account's is untied from it, so nothing reaches whoever registers the name next.
 */
export function deleteUser(db: Database.Database, username: string, receiptBox: Uint8Array): { deleted: Deleted; untied: Untied } {
  requireUser(db, username);
  return db.transaction(() => {
    const deleted: Record<string, number> = {};
    deleted.queue = db.prepare('DELETE FROM queue WHERE recipient = ?').run(username).changes;
    for (const table of tablesKeyedByUsername(db)) {
      // The name comes from sqlite_master, not from input; quoted all the same.
      deleted[table] = db.prepare(`DELETE FROM "${table.replaceAll('"', '""')}" WHERE username = ?`).run(username).changes;
    }
    deleted.users = db.prepare('DELETE FROM users WHERE username = ?').run(username).changes;
    deleted.receipts = db.prepare('DELETE FROM receipts WHERE box = ?').run(receiptBox).changes;
    const untied = {
      sentEnvelopes: db.prepare('UPDATE queue SET receipt_box = NULL WHERE receipt_box = ?').run(receiptBox).changes,
      blobs: db.prepare('UPDATE blobs SET owner = NULL WHERE owner = ?').run(receiptBox).changes,
    };
    return { deleted, untied };
  })();
}

export function relayStats(db: Database.Database, now: number): RelayStats {
  const one = <T>(sql: string, ...params: unknown[]): T => db.prepare(sql).pluck().get(...params) as T;
  const storage = sqliteStorageUsage(db);
  return {
    users: one<number>('SELECT count(*) FROM users'),
    banned: one<number>('SELECT count(*) FROM users WHERE banned_at IS NOT NULL'),
    queuedEnvelopes: one<number>('SELECT count(*) FROM queue'),
    queuedBytes: one<number>('SELECT coalesce(sum(length(envelope)), 0) FROM queue'),
    activeInvites: one<number>(
      'SELECT count(*) FROM invites WHERE revoked_at IS NULL AND uses < max_uses AND (expires_at IS NULL OR expires_at > ?)',
      now,
    ),
    databaseBytes: storage.databaseBytes(),
    blobBytes: storage.blobBytes(now),
  };
}
