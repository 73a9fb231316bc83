import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type Database from 'better-sqlite3-multiple-ciphers';
import { missingCaseError } from '../missing-case.js';
import { ReceiptBoxes } from '../receipts.js';
import { DATABASE_FILE, openDatabase } from '../store/sqlite.js';
import { diskFreeBytes } from '../store/storage-usage.js';
import { backupRelay } from './backup.js';
import {
  AdminError,
  banUser,
  createInvite,
  deleteUser,
  listInvites,
  listUsers,
  relayStats,
  revokeInvite,
  unbanUser,
  type InviteSummary,
} from './operations.js';

export const USAGE = `usage: relay:admin --data DIR COMMAND   (DIR: the relay's data folder; PARLEY_RELAY_DATA if --data is left out)
  invites create [--uses N (1)] [--expires-in 7d|12h|30m|never (7d)]   print a new invite code (shown once)
  invites list                                                         id, uses, expiry and state of each invite
  invites revoke ID
  users list                                                           name, registered, banned, queued envelopes
  users ban NAME [--reason TEXT]                                       refuse their connections from now on
  users unban NAME
  users delete NAME                                                    remove the account, its prekeys and its queue
  stats
  backup DEST                                                          copy the data folder into DEST (new or empty), the relay running or not`;

export class UsageError extends Error {}

const UNITS: Readonly<Record<string, number>> = { m: 60_000, h: 3_600_000, d: 86_400_000 };

/** "7d" -> ms; "never" -> null. */
function parseDuration(text: string): number | null {
  if (text === 'never') return null;
  const match = /^(\d+)([mhd])$/.exec(text);
  const unit = match?.[2] === undefined ? undefined : UNITS[match[2]];
  if (match === null || unit === undefined || Number(match[1]) === 0) throw new UsageError(`--expires-in must be like 30m, 12h, 7d or never, got '${text}'`);
  return Number(match[1]) * unit;
}

function iso(ms: number | null): string {
  return ms === null ? '-' : new Date(ms).toISOString();
}

function inviteState(invite: InviteSummary, now: number): string {
  if (invite.revokedAt !== null) return 'revoked';
  if (invite.expiresAt !== null && invite.expiresAt <= now) return 'expired';
  if (invite.uses >= invite.maxUses) return 'used-up';
  return 'active';
}

/** One admin command, checked before the database is opened: a mistyped command changes nothing. */
type Command =
  | { readonly kind: 'invites create'; readonly uses: number; readonly ttlMs: number | null }
  | { readonly kind: 'invites list' }
  | { readonly kind: 'invites revoke'; readonly id: string }
  | { readonly kind: 'users list' }
  | { readonly kind: 'users ban'; readonly name: string; readonly reason: string | null }
  | { readonly kind: 'users unban'; readonly name: string }
  | { readonly kind: 'users delete'; readonly name: string }
  | { readonly kind: 'stats' }
  | { readonly kind: 'backup'; readonly dest: string };

interface Parsed {
  readonly data: string;
  readonly command: Command;
}

function parseCommand(args: readonly string[], dataDir: string | undefined): Parsed | 'help' {
  const { values, positionals } = parseArgs({
    args: [...args],
    options: {
      data: { type: 'string' },
      uses: { type: 'string' },
      'expires-in': { type: 'string' },
      reason: { type: 'string' },
      help: { type: 'boolean' },
    },
    strict: true,
    allowPositionals: true,
  });
  if (values.help === true) return 'help';
  const data = values.data ?? dataDir;
  if (data === undefined || data === '') throw new UsageError('--data DIR (or PARLEY_RELAY_DATA) is required');
  const [group, command, target] = positionals;
  if (group === 'backup') {
    if (command === undefined || command === '' || target !== undefined) throw new UsageError('backup needs one destination folder');
    return { data, command: { kind: 'backup', dest: command } };
  }
  const name = `${group ?? ''} ${command ?? ''}`.trim();
  const needTarget = (): string => {
    if (target === undefined || target === '') throw new UsageError(`${name} needs a name or id`);
    return target;
  };
  switch (name) {
    case 'invites create': {
      const uses = values.uses === undefined ? 1 : Number(values.uses);
      if (!Number.isInteger(uses) || uses < 1) throw new UsageError(`--uses must be a whole number from 1, got '${values.uses ?? ''}'`);
      return { data, command: { kind: name, uses, ttlMs: parseDuration(values['expires-in'] ?? '7d') } };
    }
    case 'invites list':
    case 'users list':
    case 'stats':
      return { data, command: { kind: name } };
    case 'invites revoke':
      return { data, command: { kind: name, id: needTarget() } };
    case 'users ban':
      return { data, command: { kind: name, name: needTarget(), reason: values.reason ?? null } };
    case 'users unban':
    case 'users delete':
      return { data, command: { kind: name, name: needTarget() } };
    default:
      throw new UsageError(`unknown command '${positionals.join(' ')}'`);
  }
}

/** The relay's database in `data`; never a new one, which a mistyped folder would otherwise get. */
function openRelayDatabase(data: string): Database.Database {
  if (!existsSync(join(data, DATABASE_FILE))) {
    throw new AdminError('NO_RELAY_DATA', `no relay database in ${data} (the relay creates it when it first starts with --data ${data})`);
  }
  return openDatabase(data, { create: false });
}

function execute(db: Database.Database, command: Command, now: number, data: string): string[] {
  switch (command.kind) {
    case 'invites create': {
      const expiresAt = command.ttlMs === null ? null : now + command.ttlMs;
      const invite = createInvite(db, { maxUses: command.uses, expiresAt, now });
      return [`invite ${invite.id}: ${invite.code}`, `uses ${command.uses}, expires ${iso(expiresAt)}`];
    }
    case 'invites list':
      return listInvites(db).map((i) => `${i.id}\t${i.uses}/${i.maxUses}\texpires ${iso(i.expiresAt)}\t${inviteState(i, now)}`);
    case 'invites revoke':
      revokeInvite(db, command.id, now);
      return [`revoked ${command.id}`];
    case 'users list':
      return listUsers(db).map(
        (u) => `${u.username}\tregistered ${iso(u.registeredAt)}\t${u.bannedAt === null ? 'active' : `banned ${iso(u.bannedAt)}${u.banReason === null ? '' : ` (${u.banReason})`}`}\tqueued ${u.queued}`,
      );
    case 'users ban':
      banUser(db, command.name, command.reason, now);
      return [`banned ${command.name}`];
    case 'users unban':
      unbanUser(db, command.name);
      return [`unbanned ${command.name}`];
    case 'users delete': {
      const boxes = ReceiptBoxes.read(data);
      if (boxes === undefined) throw new AdminError('NO_RELAY_DATA', `no receipt key in ${data}: is it a relay's data folder, whole?`);
      const { deleted, untied } = deleteUser(db, command.name, boxes.boxFor(command.name));
      return [
        `deleted ${command.name}: ${Object.entries(deleted).map(([table, n]) => `${table} ${n}`).join(', ')}`,
        `untied from the name: envelopes it sent still queued ${untied.sentEnvelopes} (no receipt will be sent), blobs it uploaded ${untied.blobs} (kept until they expire)`,
      ];
    }
    case 'stats': {
      const stats = relayStats(db, now);
      return [
        `users ${stats.users}`,
        `banned ${stats.banned}`,
        `queued envelopes ${stats.queuedEnvelopes}`,
        `queued bytes ${stats.queuedBytes}`,
        `active invites ${stats.activeInvites}`,
        `database bytes ${stats.databaseBytes}`,
        `blob bytes ${stats.blobBytes}`,
        `disk free bytes ${diskFreeBytes(data) ?? 'unknown'}`,
      ];
    }
    case 'backup': {
      const backup = backupRelay(db, data, command.dest, now);
      const gone = backup.blobsGone > 0 ? ` (${backup.blobsGone} more expired while copying)` : '';
      return [`backed up ${data} into ${command.dest}`, `database ${backup.databaseBytes} bytes, ${backup.keyFiles} key files, ${backup.blobs} blobs${gone}`];
    }
    default:
      throw missingCaseError(command);
  }
}

/** Run one admin command; returns the lines to print. Throws UsageError or AdminError. `dataDir`: when --data is left out. */
export function runAdmin(args: readonly string[], now: number = Date.now(), dataDir?: string): string[] {
  const parsed = parseCommand(args, dataDir);
  if (parsed === 'help') return [USAGE];
  const db = openRelayDatabase(parsed.data);
  try {
    return execute(db, parsed.command, now, parsed.data);
  } finally {
    db.close();
  }
}
