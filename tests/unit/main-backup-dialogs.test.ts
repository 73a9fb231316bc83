import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Dialog, OpenDialogReturnValue, SaveDialogReturnValue } from 'electron';
import { describe, expect, it, vi } from 'vitest';
import { withBackupDialogs } from '../../app/main/backup-dialogs.js';
import type { Core } from '../../app/core/index.js';
import { toHex } from '../../app/core/crypto/bytes.js';
import { randomBytes } from '../../app/core/crypto/random.js';
import { startTestRelay } from '../support/relay.js';
import { useCleanups } from '../support/cleanups.js';
import { openTestCore } from '../support/cores.js';
import { value, code } from '../support/result.js';

const PASSPHRASE = 'a long enough passphrase';
const BACKUP_PASSPHRASE = 'seven lanterns over a quiet harbour';
const cleanups = useCleanups();

const core = (profileDir: string): Promise<Core> => openTestCore(cleanups, profileDir);

/** Electron's dialog module, mocked: each test says what the user does in the dialog. */
function mockDialog() {
  const showSaveDialog = vi.fn<(...args: unknown[]) => Promise<SaveDialogReturnValue>>();
  const showOpenDialog = vi.fn<(...args: unknown[]) => Promise<OpenDialogReturnValue>>();
  const dialog = { showSaveDialog, showOpenDialog } as unknown as Pick<Dialog, 'showSaveDialog' | 'showOpenDialog'>;
  return { dialog, showSaveDialog, showOpenDialog };
}

describe('Electron main: backups through native file dialogs', () => {
  it('exports only after the passphrase checks, to the file the save dialog chose; a cancelled dialog writes nothing', async () => {
    const relay = await startTestRelay();
    cleanups.push(() => relay.close());
    const profileDir = await cleanups.tempDir('parley-dialog-profile-');
    const documents = await cleanups.tempDir('parley-dialog-docs-');
    const source = await core(profileDir);
    value(await source.invoke('profile.create', { username: `dlg${toHex(randomBytes(5))}`, passphrase: PASSPHRASE, relayUrl: relay.url }));
    const mocked = mockDialog();
    const api = withBackupDialogs(source, { dialog: mocked.dialog, window: () => null, defaultFolder: documents, now: () => new Date('2026-01-02T03:04:05.678Z') });
    const request = { passphrase: PASSPHRASE, backupPassphrase: BACKUP_PASSPHRASE };

    // Refused before the user is asked where to save.
    expect(code(await api.invoke('backup.export', { ...request, passphrase: 'not the passphrase at all' }))).toBe('VAULT_WRONG_PASSPHRASE');
    expect(code(await api.invoke('backup.export', { ...request, backupPassphrase: 'password1' }))).toBe('VAULT_WEAK_PASSPHRASE');
    expect(mocked.showSaveDialog).not.toHaveBeenCalled();

    const profileFiles = await readdir(profileDir);
    mocked.showSaveDialog.mockResolvedValueOnce({ canceled: true, filePath: '' });
    const cancelled = await api.invoke('backup.export', request);
    expect(cancelled).toEqual({ ok: false, error: { code: 'BACKUP_CANCELLED', message: expect.stringMatching(/nothing was written/) } });
    expect(mocked.showSaveDialog).toHaveBeenCalledWith(
      expect.objectContaining({ defaultPath: path.join(documents, 'parley-2026-01-02T03-04-05Z.parley-backup'), filters: [{ name: 'Parley backups', extensions: ['parley-backup'] }] }),
    );
    expect(await readdir(documents)).toEqual([]);
    expect(await readdir(profileDir)).toEqual(profileFiles);

    const chosen = path.join(documents, 'chosen.parley-backup');
    mocked.showSaveDialog.mockResolvedValueOnce({ canceled: false, filePath: chosen });
    expect(value(await api.invoke('backup.export', request))).toEqual({ fileName: 'chosen.parley-backup' });
    expect((await readFile(chosen)).subarray(0, 8).toString('latin1')).toBe('PARLEYBK');
    // Everything else goes straight to the core.
    expect(await api.invoke('profile.status', {})).toEqual(await source.invoke('profile.status', {}));
  }, 60_000);

  it('restores from the file the open dialog chose, into an empty profile only; cancel and a wrong passphrase leave it empty', async () => {
    const relay = await startTestRelay();
    cleanups.push(() => relay.close());
    const sourceDir = await cleanups.tempDir('parley-dialog-src-');
    const freshDir = await cleanups.tempDir('parley-dialog-fresh-');
    const documents = await cleanups.tempDir('parley-dialog-docs-');
    const name = `dlg${toHex(randomBytes(5))}`;
    const source = await core(sourceDir);
    value(await source.invoke('profile.create', { username: name, passphrase: PASSPHRASE, relayUrl: relay.url }));
    const backup = path.join(documents, 'restore-me.parley-backup');
    await source.exportBackup(backup, { passphrase: BACKUP_PASSPHRASE });
    await source.lock('user');

    const mocked = mockDialog();
    const fresh = await core(freshDir);
    const api = withBackupDialogs(fresh, { dialog: mocked.dialog, window: () => null, defaultFolder: documents });
    expect(value(await api.invoke('backup.sources', {}))).toEqual({ picker: 'dialog' });
    expect(code(await api.invoke('backup.restore', { backupPassphrase: BACKUP_PASSPHRASE, fileName: 'restore-me.parley-backup' }))).toBe('VALIDATION_FAILED');

    mocked.showOpenDialog.mockResolvedValueOnce({ canceled: true, filePaths: [] });
    expect(code(await api.invoke('backup.restore', { backupPassphrase: BACKUP_PASSPHRASE }))).toBe('BACKUP_CANCELLED');
    mocked.showOpenDialog.mockResolvedValue({ canceled: false, filePaths: [backup] });
    expect(code(await api.invoke('backup.restore', { backupPassphrase: 'not the backup passphrase' }))).toBe('BACKUP_WRONG_KEY');
    expect(await readdir(freshDir)).toEqual([]);

    expect(value(await api.invoke('backup.restore', { backupPassphrase: BACKUP_PASSPHRASE }))).toEqual({ state: 'locked' });
    expect(value(await fresh.invoke('profile.unlock', { passphrase: PASSPHRASE })).username).toBe(name);

    // A folder that already holds a profile is refused, and its vault is untouched.
    const vault = await readFile(path.join(sourceDir, 'vault.json'));
    const onSource = withBackupDialogs(source, { dialog: mocked.dialog, window: () => null, defaultFolder: documents });
    expect(code(await onSource.invoke('backup.restore', { backupPassphrase: BACKUP_PASSPHRASE }))).toBe('BACKUP_TARGET_NOT_EMPTY');
    expect(await readFile(path.join(sourceDir, 'vault.json'))).toEqual(vault);
  }, 60_000);
});
