import { open, readdir, stat, mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { BackupListing } from '../../shared/backup.js';
import { BackupFileName } from '../../shared/backup.js';
import { ParleyError } from '../../shared/errors.js';
import { datedBackupName } from '../backup/file-name.js';
import { BACKUP_MAGIC } from '../backup/format.js';

/** The folder inside a profile where hosts without a file dialog (the devhost) keep backups. */
export const BACKUPS_FOLDER = 'backups';

async function startsWithMagic(file: string): Promise<boolean> {
  const handle = await open(file, 'r');
  try {
    const head = Buffer.alloc(BACKUP_MAGIC.length);
    const { bytesRead } = await handle.read(head, 0, head.length, 0);
    return bytesRead === head.length && head.equals(BACKUP_MAGIC);
  } finally {
    await handle.close();
  }
}

/**
 * The one folder where the core writes backups and finds them to restore, for hosts that have no native
 * dialog. The UI only ever sees file names in it; a name is checked before it becomes a path.
 */
export class BackupShelf {
  constructor(
    readonly dir: string,
    private readonly profileDir: string,
  ) {}

  /** A fresh path for a new backup (never an existing file's). */
  async newFile(now = new Date()): Promise<string> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const taken = new Set(await readdir(this.dir));
    let attempt = 0;
    while (taken.has(datedBackupName(now, attempt)) || taken.has(`${datedBackupName(now, attempt)}.tmp`)) attempt += 1;
    return path.join(this.dir, datedBackupName(now, attempt));
  }

  /** The Parley backups in the folder (recognised by their first bytes), newest first; none if it does not exist. */
  async list(): Promise<BackupListing[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch {
      return [];
    }
    const found: BackupListing[] = [];
    for (const fileName of names) {
      // An export still being written ends in .tmp until it is complete.
      if (!BackupFileName.safeParse(fileName).success || fileName.endsWith('.tmp')) continue;
      const file = path.join(this.dir, fileName);
      try {
        const info = await stat(file);
        if (info.isFile() && (await startsWithMagic(file))) found.push({ fileName, bytes: info.size, modifiedAt: Math.floor(info.mtimeMs) });
      } catch {
        /* gone or unreadable: not offered */
      }
    }
    return found.sort((a, b) => b.modifiedAt - a.modifiedAt || b.fileName.localeCompare(a.fileName));
  }

  /** The path of a listed backup; BACKUP_NOT_OURS for any name that is not a plain file name in this folder. */
  pathOf(fileName: string): string {
    const dir = path.resolve(this.dir);
    const file = path.join(dir, fileName);
    if (!BackupFileName.safeParse(fileName).success || path.dirname(file) !== dir) {
      throw new ParleyError('BACKUP_NOT_OURS', 'Choose one of the backups listed');
    }
    return file;
  }

  /** Entries of the profile folder that do not make it "not empty": the shelf itself, when it lives there. */
  ignoredInProfile(): string[] {
    return path.dirname(path.resolve(this.dir)) === path.resolve(this.profileDir) ? [path.basename(this.dir)] : [];
  }
}
