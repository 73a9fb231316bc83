import { restoreBackup, type Core } from '../../core/index.js';
import type { BackupSecret } from '../../core/backup/format.js';
import { fromHex } from '../../core/crypto/bytes.js';
import { ParleyError } from '../../shared/errors.js';
import { printLine } from '../output.js';
import { readSecret } from '../prompt.js';
import { unlock } from './session.js';

/** PARLEY_BACKUP_KEY (64 hex digits) if set, else the backup passphrase from PARLEY_BACKUP_PASSPHRASE or a prompt. */
export async function readBackupSecret(isNew: boolean): Promise<BackupSecret> {
  const hexKey = process.env.PARLEY_BACKUP_KEY;
  if (hexKey !== undefined) {
    if (!/^[0-9a-fA-F]{64}$/.test(hexKey)) throw new ParleyError('VALIDATION_FAILED', 'PARLEY_BACKUP_KEY is 64 hex digits');
    return { key: fromHex(hexKey.toLowerCase()) };
  }
  return { passphrase: await readSecret('PARLEY_BACKUP_PASSPHRASE', 'Backup passphrase', { confirm: isNew }) };
}

export async function exportBackupFile(core: Core, passphrase: string, file: string, secret: BackupSecret): Promise<void> {
  await unlock(core, passphrase);
  await core.exportBackup(file, secret);
  printLine(`Backup written to ${file}`);
}

export async function importBackupFile(profileDir: string, file: string, secret: BackupSecret): Promise<void> {
  await restoreBackup(profileDir, file, secret);
  printLine(`Profile restored into ${profileDir}`);
}
