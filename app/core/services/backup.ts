import { readdirSync, readFileSync } from 'node:fs';
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { ParleyError } from '../../shared/errors.js';
import { ratePassphrase } from '../../shared/strength.js';
import { packContainer, unpackContainer, type ContainerFile } from '../backup/container.js';
import { openBackup, sealBackup, type BackupSecret } from '../backup/format.js';
import type { Sodium } from '../crypto/sodium.js';
import type { Db } from '../store/db.js';
import { parseVault } from '../vault/format.js';
import { writeFileAtomic } from '../fs/atomic-write.js';

/** The files of a profile folder that a backup carries; all of them are already encrypted at rest. */
export const BACKUP_FILES = { vault: 'vault.json', database: 'parley.db', attachments: 'attachments' } as const;
const ATTACHMENT_FILE = /^[0-9a-f]{32}\.(bin|thumb)$/;

/** A backup's own passphrase must clear the same floor as the profile's. */
export function requireBackupSecret(secret: BackupSecret): void {
  if ('key' in secret) return;
  const strength = ratePassphrase(secret.passphrase);
  if (!strength.acceptable) throw new ParleyError('VAULT_WEAK_PASSPHRASE', `This backup passphrase is too easy to guess. ${strength.warning}`.trim());
}

/**
 * A consistent copy of the profile's files. Synchronous on purpose: between the WAL checkpoint and the last
 * read no other statement of this process can run, so the database file is complete and current.
 */
function snapshot(profileDir: string, db: Db): ContainerFile[] {
  db.pragma('wal_checkpoint(TRUNCATE)');
  const files: ContainerFile[] = [
    { name: BACKUP_FILES.vault, data: readFileSync(path.join(profileDir, BACKUP_FILES.vault)) },
    { name: BACKUP_FILES.database, data: readFileSync(path.join(profileDir, BACKUP_FILES.database)) },
  ];
  const attachmentsDir = path.join(profileDir, BACKUP_FILES.attachments);
  let names: string[] = [];
  try {
    names = readdirSync(attachmentsDir).filter((name) => ATTACHMENT_FILE.test(name));
  } catch {
    /* no attachments yet */
  }
  for (const name of names) files.push({ name: `${BACKUP_FILES.attachments}/${name}`, data: readFileSync(path.join(attachmentsDir, name)) });
  return files;
}

/** Write the whole profile, encrypted under the backup secret, to `file` (atomically, mode 0600). */
export async function exportBackup(sodium: Sodium, profileDir: string, db: Db, file: string, secret: BackupSecret): Promise<void> {
  requireBackupSecret(secret);
  const sealed = sealBackup(sodium, packContainer(snapshot(profileDir, db)), secret);
  await writeFileAtomic(file, sealed);
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

