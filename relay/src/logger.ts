import { createHmac, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino, type DestinationStream } from 'pino';
import type { Log } from './log.js';
import type { LogLevel } from './options.js';

/** Field names whose values never reach a log line, whatever a caller passes. */
export const REDACTED_FIELDS = [
  'token',
  'authorization',
  'signature',
  'nonce',
  'challenge',
  'envelope',
  'key',
  'identityKey',
  'agreementKey',
  'agreementSig',
  'secret',
  'code_totp',
] as const;

/** The field that names a user; hashed when hashUsernames is on. */
const USER_FIELD = 'user';
export const SALT_FILE = 'log-salt';
/** Events that report something going wrong log at warn; the rest at info. */
const WARNING_EVENT = /_(error|failed|rejected|full)$/;

export interface LoggerOptions {
  readonly level: LogLevel;
  /** Replace usernames by an HMAC under this salt (stable across restarts of one relay). */
  readonly usernameSalt?: Uint8Array;
  /** Where lines go. Default: stderr (stdout is kept for the CLI's own output). */
  readonly destination?: DestinationStream;
}

/** The salt for hashed usernames in dataDir, created on first use: hashes stay comparable across restarts, not across relays. */
export function loadUsernameSalt(dataDir: string): Uint8Array {
  const path = join(dataDir, SALT_FILE);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  try {
    return readFileSync(path);
  } catch {
    const salt = randomBytes(32);
    writeFileSync(path, salt, { mode: 0o600, flag: 'wx' });
    return salt;
  }
}

export function hashUsername(salt: Uint8Array, username: string): string {
  return createHmac('sha256', salt).update(username).digest('hex').slice(0, 16);
}

/** A pino JSON log behind the relay's Log signature, with secrets redacted by field name. */
export function createLog(options: LoggerOptions): Log {
  const logger = pino(
    {
      level: options.level,
      base: null,
      timestamp: pino.stdTimeFunctions.isoTime,
      messageKey: 'event',
      redact: { paths: [...REDACTED_FIELDS], censor: '[redacted]' },
      formatters: { level: (label) => ({ level: label }) },
    },
    options.destination ?? pino.destination({ fd: 2, sync: true }),
  );
  const salt = options.usernameSalt;
  return (event, fields = {}) => {
    const level = WARNING_EVENT.test(event) ? 'warn' : 'info';
    if (!logger.isLevelEnabled(level)) return;
    const user = fields[USER_FIELD];
    const safe = salt !== undefined && typeof user === 'string' ? { ...fields, [USER_FIELD]: hashUsername(salt, user) } : fields;
    logger[level](safe, event);
  };
}
