import path from 'node:path';
import type { BackupSources, BackupWritten } from '../../shared/backup.js';
import type { MethodParsedInput } from '../../shared/contract.js';
import type { ProfileStatus } from '../../shared/domain.js';
import { ParleyError } from '../../shared/errors.js';
import type { AccountService } from './account.js';
import { requireBackupSecret } from './backup.js';
import type { BackupShelf } from './backup-shelf.js';

export type BackupExportRequest = MethodParsedInput<'backup.export'>;

/**
 * The UI's backup calls. Where the file goes or comes from is the host's choice: a host with a native
 * dialog passes the path it got (exportTo/restoreFrom), any other host uses the core's backups folder.
 */
export class BackupActions {
  constructor(
    private readonly account: AccountService,
    private readonly shelf: BackupShelf,
  ) {}

  /** Everything that can be refused before a file is chosen: locked, wrong passphrase, weak backup passphrase. */
  async check(request: BackupExportRequest): Promise<void> {
    this.account.requireSession();
    await this.account.verifyPassphrase(request.passphrase);
    requireBackupSecret({ passphrase: request.backupPassphrase });
  }

  async exportTo(file: string, request: BackupExportRequest): Promise<void> {
    await this.check(request);
    await this.account.exportBackup(file, { passphrase: request.backupPassphrase });
  }

  /** Into the backups folder, under a new dated name, which is all the UI learns. */
  async exportToShelf(request: BackupExportRequest): Promise<BackupWritten> {
    await this.check(request);
    const file = await this.shelf.newFile();
    await this.account.exportBackup(file, { passphrase: request.backupPassphrase });
    return { fileName: path.basename(file) };
  }

  async sources(): Promise<BackupSources> {
    return { picker: 'list', files: await this.shelf.list() };
  }

  async restoreFrom(file: string, backupPassphrase: string): Promise<ProfileStatus> {
    await this.account.restoreBackup(file, { passphrase: backupPassphrase }, this.shelf.ignoredInProfile());
    return this.account.status();
  }

  restoreFromShelf(request: MethodParsedInput<'backup.restore'>): Promise<ProfileStatus> {
    if (request.fileName === undefined) throw new ParleyError('VALIDATION_FAILED', 'Choose a backup to restore');
    return this.restoreFrom(this.shelf.pathOf(request.fileName), request.backupPassphrase);
  }
}
