import { z } from 'zod';
import { ParleyError } from '../../shared/errors.js';
import { utf8 } from '../crypto/bytes.js';
import { randomBytes } from '../crypto/random.js';
import { openStream, StreamSealer } from '../crypto/secretstream.js';
import { concatBytes } from '../crypto/bytes.js';
import type { Sodium } from '../crypto/sodium.js';
import { PASSPHRASE_COST } from '../vault/cost.js';

/**
 * A Parley backup file, version 1:
 *   "PARLEYBK" | u8 version | u32 header length | header (JSON) | key check (32) | secretstream of the container
 * The header says how the key is derived (Argon2id from a passphrase, or a raw 32-byte key). The key check,
 * a keyed hash that reveals nothing of the key, tells a wrong key (BACKUP_WRONG_KEY) from damage
 * (BACKUP_CORRUPT). Every stream chunk authenticates everything before it.
 */
export const BACKUP_MAGIC = utf8.encode('PARLEYBK');
export const BACKUP_VERSION = 1;
const PREFIX_BYTES = BACKUP_MAGIC.length + 1 + 4;
const MAX_HEADER_BYTES = 4096;
const CHECK_BYTES = 32;

/** Separate keys for the check value and the stream, from the one derived key. */
function splitKey(sodium: Sodium, key: Uint8Array): { check: Uint8Array; stream: Uint8Array } {
  return {
    check: sodium.crypto_generichash(CHECK_BYTES, utf8.encode('parley-backup-v1|check'), key),
    stream: sodium.crypto_generichash(32, utf8.encode('parley-backup-v1|stream'), key),
  };
}

const Header = z
  .object({
    kdf: z.discriminatedUnion('alg', [
      z.object({ alg: z.literal('argon2id13'), opslimit: z.number().int().positive().max(64), memlimit: z.number().int().positive().max(2 ** 31), salt: z.string() }).strict(),
      z.object({ alg: z.literal('raw-key') }).strict(),
    ]),
    createdAt: z.number().int(),
  })
  .strict();
type Header = z.infer<typeof Header>;

/** What protects a backup: a passphrase of the user's choice, or a 32-byte key. */
export type BackupSecret = { passphrase: string } | { key: Uint8Array };

const corrupt = (message = 'The backup file is damaged or incomplete'): ParleyError => new ParleyError('BACKUP_CORRUPT', message);

function deriveKey(sodium: Sodium, header: Header, secret: BackupSecret): Uint8Array {
  const { kdf } = header;
  if (kdf.alg === 'raw-key') {
    if (!('key' in secret)) throw new ParleyError('BACKUP_WRONG_KEY', 'This backup is protected by a key, not a passphrase');
    if (secret.key.length !== 32) throw new ParleyError('BACKUP_WRONG_KEY', 'A backup key is 32 bytes (64 hex digits)');
    return Uint8Array.from(secret.key);
  }
  if (!('passphrase' in secret)) throw new ParleyError('BACKUP_WRONG_KEY', 'This backup is protected by a passphrase, not a key');
  const salt = Buffer.from(kdf.salt, 'base64');
  if (salt.length !== sodium.crypto_pwhash_SALTBYTES) throw corrupt();
  return sodium.crypto_pwhash(32, secret.passphrase, salt, kdf.opslimit, kdf.memlimit, sodium.crypto_pwhash_ALG_ARGON2ID13);
}

/**
 * The start of a new backup file: its prefix (magic, version, header, key check) and the sealer for the
 * container's stream, keyed and bound to that prefix. Argon2id runs here, before any file is read.
 */
export function startBackup(sodium: Sodium, secret: BackupSecret): { prefix: Uint8Array; sealer: StreamSealer } {
  const header: Header = {
    kdf: 'key' in secret ? { alg: 'raw-key' } : { alg: 'argon2id13', ...PASSPHRASE_COST, salt: Buffer.from(randomBytes(sodium.crypto_pwhash_SALTBYTES)).toString('base64') },
    createdAt: Date.now(),
  };
  const headerBytes = utf8.encode(JSON.stringify(header));
  const key = deriveKey(sodium, header, secret);
  const { check, stream } = splitKey(sodium, key);
  sodium.memzero(key);
  const prefix = new Uint8Array(PREFIX_BYTES + headerBytes.length + CHECK_BYTES);
  prefix.set(BACKUP_MAGIC, 0);
  prefix[BACKUP_MAGIC.length] = BACKUP_VERSION;
  new DataView(prefix.buffer).setUint32(BACKUP_MAGIC.length + 1, headerBytes.length);
  prefix.set(headerBytes, PREFIX_BYTES);
  prefix.set(check, PREFIX_BYTES + headerBytes.length);
  try {
    return { prefix, sealer: new StreamSealer(sodium, stream, prefix) };
  } finally {
    sodium.memzero(stream);
  }
}

/** A whole backup file in memory (tests, small containers); exportBackup streams the same bytes to disk. */
export function sealBackup(sodium: Sodium, container: Uint8Array, secret: BackupSecret): Uint8Array {
  const { prefix, sealer } = startBackup(sodium, secret);
  return concatBytes([prefix, sealer.header, ...sealer.push(container), sealer.final()]);
}

/** BACKUP_NOT_OURS for a file that is not a Parley backup, BACKUP_WRONG_KEY, or BACKUP_CORRUPT. */
export function openBackup(sodium: Sodium, file: Uint8Array, secret: BackupSecret): Uint8Array {
  if (file.length < PREFIX_BYTES || !BACKUP_MAGIC.every((byte, i) => file[i] === byte)) {
    throw new ParleyError('BACKUP_NOT_OURS', 'This file is not a Parley backup');
  }
  if (file[BACKUP_MAGIC.length] !== BACKUP_VERSION) throw new ParleyError('BACKUP_NOT_OURS', 'This backup was made by a newer version of Parley');
  const headerLength = new DataView(file.buffer, file.byteOffset, file.byteLength).getUint32(BACKUP_MAGIC.length + 1);
  if (headerLength > MAX_HEADER_BYTES || PREFIX_BYTES + headerLength > file.length) throw corrupt();
  let header: Header;
  try {
    header = Header.parse(JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(file.subarray(PREFIX_BYTES, PREFIX_BYTES + headerLength))));
  } catch {
    throw corrupt();
  }
  const prefix = file.subarray(0, PREFIX_BYTES + headerLength + CHECK_BYTES);
  if (prefix.length !== PREFIX_BYTES + headerLength + CHECK_BYTES) throw corrupt();
  const key = deriveKey(sodium, header, secret);
  const { check, stream } = splitKey(sodium, key);
  sodium.memzero(key);
  try {
    if (!sodium.memcmp(check, prefix.subarray(prefix.length - CHECK_BYTES))) {
      throw new ParleyError('BACKUP_WRONG_KEY', 'That passphrase or key does not open this backup');
    }
    return openStream(sodium, stream, file.subarray(prefix.length), prefix);
  } catch (error) {
    if (error instanceof ParleyError) throw error;
    throw corrupt();
  } finally {
    sodium.memzero(stream);
  }
}
