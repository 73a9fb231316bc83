import path from 'node:path';
import type { BaseWindow, Dialog, OpenDialogOptions, SaveDialogOptions } from 'electron';
import { datedBackupName } from '../core/backup/file-name.js';
import type { Core } from '../core/index.js';
import type { ParleyApi } from '../shared/api.js';
import type { MethodInput, MethodName, MethodOutput, MethodParsedInput } from '../shared/contract.js';
import { ParleyError } from '../shared/errors.js';
import { fail, ok, toErrorShape, type Result } from '../shared/result.js';
import { validateInvocation } from '../shared/validate.js';

export interface BackupDialogOptions {
  dialog: Pick<Dialog, 'showSaveDialog' | 'showOpenDialog'>;
  /** The window the dialogs attach to, when one is shown. */
  window(): BaseWindow | null;
  /** Where the save dialog starts (the user's documents folder). */
  defaultFolder: string;
  now?: () => Date;
}

const FILTERS = [{ name: 'Parley backups', extensions: ['parley-backup'] }];

const cancelled = (): ParleyError => new ParleyError('BACKUP_CANCELLED', 'No file was chosen, so nothing was written or restored');

type Intercepted = { [M in MethodName]?: (input: MethodParsedInput<M>) => Promise<MethodOutput<M>> };

/**
 * The core's API with the backup methods answered through native file dialogs in this process: the
 * renderer never names a path, the user picks one here, and only then does the core touch a file.
 */
export function withBackupDialogs(core: Core, options: BackupDialogOptions): ParleyApi {
  const { dialog } = options;
  const now = options.now ?? (() => new Date());

  const save = (dialogOptions: SaveDialogOptions) => {
    const parent = options.window();
    return parent === null ? dialog.showSaveDialog(dialogOptions) : dialog.showSaveDialog(parent, dialogOptions);
  };
  const pick = (dialogOptions: OpenDialogOptions) => {
    const parent = options.window();
    return parent === null ? dialog.showOpenDialog(dialogOptions) : dialog.showOpenDialog(parent, dialogOptions);
  };

  const intercepted: Intercepted = {
    'backup.export': async (input) => {
      // A wrong passphrase or a weak backup passphrase is refused before the user is asked for a place.
      await core.checkBackupExport(input);
      const choice = await save({
        title: 'Save an encrypted backup',
        defaultPath: path.join(options.defaultFolder, datedBackupName(now())),
        filters: FILTERS,
        properties: ['createDirectory', 'showOverwriteConfirmation'],
      });
      if (choice.canceled || choice.filePath === '') throw cancelled();
      await core.exportBackupTo(choice.filePath, input);
      return { fileName: path.basename(choice.filePath) };
    },
    'backup.sources': async () => ({ picker: 'dialog' }),
    'backup.restore': async (input) => {
      if (input.fileName !== undefined) throw new ParleyError('VALIDATION_FAILED', 'This app picks the backup file with its own dialog');
      const choice = await pick({ title: 'Restore from a backup', filters: FILTERS, properties: ['openFile'] });
      const file = choice.filePaths[0];
      if (choice.canceled || file === undefined) throw cancelled();
      await core.restoreBackupFrom(file, input.backupPassphrase);
      const status = await core.invoke('profile.status', {});
      if (!status.ok) throw new ParleyError(status.error.code, status.error.message);
      return status.value;
    },
  };

  return {
    async invoke<M extends MethodName>(method: M, input: MethodInput<M>): Promise<Result<MethodOutput<M>>> {
      const handler = intercepted[method] as ((input: unknown) => Promise<MethodOutput<M>>) | undefined;
      if (handler === undefined) return core.invoke(method, input);
      try {
        return ok(await handler(validateInvocation(method, input).input));
      } catch (error) {
        return fail(toErrorShape(error));
      }
    },
    on: (event, listener) => core.on(event, listener),
  };
}
