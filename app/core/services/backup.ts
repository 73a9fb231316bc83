import { closeSync, fstatSync, openSync, readdirSync, readSync } from 'node:fs';
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { ParleyError } from '../../shared/errors.js';
import { ratePassphrase } from '../../shared/strength.js';
import { entryHeader, unpackContainer, type ContainerFile } from '../backup/container.js';
import { openBackup, startBackup, type BackupSecret } from '../backup/format.js';
import { STREAM_CHUNK_BYTES } from '../crypto/secretstream.js';
import type { Sodium } from '../crypto/sodium.js';
import type { Db } from '../store/db.js';
import { parseVault } from '../vault/format.js';
import { writeFileAtomic, writeFileAtomicSync } from '../fs/atomic-write.js';

/** The files of a profile folder that a backup carries; all of them are already encrypted at rest. */
export const BACKUP_FILES = { vault: 'vault.json', database: 'parley.db', attachments: 'attachments' } as const;
const ATTACHMENT_FILE = /^[0-9a-f]{32}\.(bin|thumb)$/;

/** A backup's own passphrase must clear the same floor as the profile's. */
export function requireBackupSecret(secret: BackupSecret): void {
  if ('key' in secret) return;
  const strength = ratePassphrase(secret.passphrase);
  if (!strength.acceptable) throw new ParleyError('VAULT_WEAK_PASSPHRASE', `This backup passphrase is too easy to guess. ${strength.warning}`.trim());
}

/** The profile's files a backup carries, by container name and path; read after the checkpoint. */
function profileEntries(profileDir: string): Array<{ name: string; file: string }> {
  const entries = [BACKUP_FILES.vault, BACKUP_FILES.database].map((name): { name: string; file: string } => ({ name, file: path.join(profileDir, name) }));
  const attachmentsDir = path.join(profileDir, BACKUP_FILES.attachments);
  let names: string[] = [];
  try {
    names = readdirSync(attachmentsDir).filter((name) => ATTACHMENT_FILE.test(name));
  } catch {
    /* no attachments yet */
  }
  for (const name of names) entries.push({ name: `${BACKUP_FILES.attachments}/${name}`, file: path.join(attachmentsDir, name) });
  return entries;
}

/** Feed one file's container entry (header, then its bytes a chunk at a time) to `emit`. */
function streamEntry(name: string, file: string, buffer: Uint8Array, emit: (bytes: Uint8Array) => void): void {
  const fd = openSync(file, 'r');
  try {
    const size = fstatSync(fd).size;
    emit(entryHeader(name, size));
    for (let read = 0; read < size; ) {
      const got = readSync(fd, buffer, 0, Math.min(buffer.length, size - read), read);
      if (got === 0) throw new Error(`${name} shrank while it was being backed up`);
      emit(buffer.subarray(0, got));
      read += got;
    }
  } finally {
    closeSync(fd);
  }
}

/**
 * Write the whole profile, encrypted under the backup secret, to `file` (atomically, mode 0600), streaming:
 * memory stays at a chunk whatever the size of the database and attachments. From the WAL checkpoint to
 * the last byte everything is synchronous on purpose: no other statement of this process can run, so the
 * database file (which only a checkpoint changes) is complete and current while it is read.
 */
export async function exportBackup(sodium: Sodium, profileDir: string, db: Db, file: string, secret: BackupSecret): Promise<void> {
  requireBackupSecret(secret);
  const { prefix, sealer } = startBackup(sodium, secret);
  const buffer = new Uint8Array(STREAM_CHUNK_BYTES);
  writeFileAtomicSync(file, (append) => {
    db.pragma('wal_checkpoint(TRUNCATE)');
    append(prefix);
    append(sealer.header);
    for (const entry of profileEntries(profileDir)) {
      streamEntry(entry.name, entry.file, buffer, (bytes) => {
        for (const chunk of sealer.push(bytes)) append(chunk);
      });
    }
    append(sealer.final());
  });
}

/**
 * Restore a backup into an empty (or missing) profile folder; on any failure the folder is left as it was.
 * `ignore`: entries that may already be there without making the folder "not empty" (a backups folder).
 */
export async function importBackup(sodium: Sodium, profileDir: string, file: string, secret: BackupSecret, ignore: readonly string[] = []): Promise<void> {
  let existing: string[] = [];
  try {
    existing = (await readdir(profileDir)).filter((name) => !ignore.includes(name));
  } catch {
    /* missing: created below */
  }
  if (existing.length > 0) throw new ParleyError('BACKUP_TARGET_NOT_EMPTY', 'Restore into an empty profile folder; this one already has files');
  let bytes: Uint8Array;
  try {
    bytes = await readFile(file);
  } catch {
    throw new ParleyError('BACKUP_NOT_OURS', 'The backup file cannot be read');
  }
  const files = validated(unpackOrCorrupt(openBackup(sodium, bytes, secret)));
  await mkdir(profileDir, { recursive: true, mode: 0o700 });
  const written: string[] = [];
  try {
    // The vault goes last: until it exists the folder is not a profile, so a crash here leaves nothing half-restored.
    for (const entry of [...files].sort((a, b) => Number(a.name === BACKUP_FILES.vault) - Number(b.name === BACKUP_FILES.vault))) {
      const target = path.join(profileDir, ...entry.name.split('/'));
      await mkdir(path.dirname(target), { recursive: true, mode: 0o700 });
      written.push(target);
      await writeFileAtomic(target, entry.data);
    }
  } catch (error) {
    await Promise.all(written.map((target) => rm(target, { force: true })));
    await rm(path.join(profileDir, BACKUP_FILES.attachments), { recursive: true, force: true });
    throw error;
  }
}

function unpackOrCorrupt(container: Uint8Array): ContainerFile[] {
  try {
    return unpackContainer(container);
  } catch {
    throw new ParleyError('BACKUP_CORRUPT', 'The backup file is damaged or incomplete');
  }
}

/** Only the files a profile has, each once, and a vault this version understands. */
function validated(files: ContainerFile[]): ContainerFile[] {
  const names = new Set<string>();
  for (const file of files) {
    const [folder, name, ...rest] = file.name.split('/');
    const allowed =
      file.name === BACKUP_FILES.vault ||
      file.name === BACKUP_FILES.database ||
      (folder === BACKUP_FILES.attachments && name !== undefined && rest.length === 0 && ATTACHMENT_FILE.test(name));
    if (!allowed || names.has(file.name)) throw new ParleyError('BACKUP_CORRUPT', 'The backup holds files a profile does not have');
    names.add(file.name);
  }
  const vault = files.find((file) => file.name === BACKUP_FILES.vault);
  if (vault === undefined || !names.has(BACKUP_FILES.database)) throw new ParleyError('BACKUP_CORRUPT', 'The backup is missing the vault or the database');
  try {
    parseVault(vault.data);
  } catch {
    throw new ParleyError('BACKUP_CORRUPT', 'The backup holds a vault this version cannot read');
  }
  return files;
}

