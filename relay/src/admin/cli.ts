import { parseArgs } from 'node:util';
import { openDatabase } from '../store/sqlite.js';
import {
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
  stats`;

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

/** Run one admin command; returns the lines to print. Throws UsageError or AdminError. `dataDir`: when --data is left out. */
export function runAdmin(args: readonly string[], now: number = Date.now(), dataDir?: string): string[] {
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
  if (values.help === true) return [USAGE];
  const data = values.data ?? dataDir;
  if (data === undefined || data === '') throw new UsageError('--data DIR (or PARLEY_RELAY_DATA) is required');
  const [group, command, target] = positionals;
  const needTarget = (): string => {
    if (target === undefined || target === '') throw new UsageError(`${group} ${command} needs a name or id`);
    return target;
  };
  const db = openDatabase(data);
  try {
    switch (`${group ?? ''} ${command ?? ''}`.trim()) {
      case 'invites create': {
        const uses = values.uses === undefined ? 1 : Number(values.uses);
        if (!Number.isInteger(uses) || uses < 1) throw new UsageError(`--uses must be a whole number from 1, got '${values.uses ?? ''}'`);
        const ttl = parseDuration(values['expires-in'] ?? '7d');
        const invite = createInvite(db, { maxUses: uses, expiresAt: ttl === null ? null : now + ttl, now });
        return [`invite ${invite.id}: ${invite.code}`, `uses ${uses}, expires ${iso(ttl === null ? null : now + ttl)}`];
      }
      case 'invites list':
        return listInvites(db).map((i) => `${i.id}\t${i.uses}/${i.maxUses}\texpires ${iso(i.expiresAt)}\t${inviteState(i, now)}`);
      case 'invites revoke':
        revokeInvite(db, needTarget(), now);
        return [`revoked ${needTarget()}`];
      case 'users list':
        return listUsers(db).map(
          (u) => `${u.username}\tregistered ${iso(u.registeredAt)}\t${u.bannedAt === null ? 'active' : `banned ${iso(u.bannedAt)}${u.banReason === null ? '' : ` (${u.banReason})`}`}\tqueued ${u.queued}`,
        );
      case 'users ban':
        banUser(db, needTarget(), values.reason ?? null, now);
        return [`banned ${needTarget()}`];
      case 'users unban':
        unbanUser(db, needTarget());
        return [`unbanned ${needTarget()}`];
      case 'users delete': {
        const deleted = deleteUser(db, needTarget());
        return [`deleted ${needTarget()}: ${Object.entries(deleted).map(([table, n]) => `${table} ${n}`).join(', ')}`];
      }
      case 'stats': {
        const stats = relayStats(db, now);
        return [
          `users ${stats.users}`,
          `banned ${stats.banned}`,
          `queued envelopes ${stats.queuedEnvelopes}`,
          `queued bytes ${stats.queuedBytes}`,
          `active invites ${stats.activeInvites}`,
        ];
      }
      default:
        throw new UsageError(`unknown command '${positionals.join(' ')}'`);
    }
  } finally {
    db.close();
  }
}
