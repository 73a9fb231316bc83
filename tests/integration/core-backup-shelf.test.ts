import { copyFile, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openCore, type Core, type CoreOptions } from '../../app/core/index.js';
import { toHex } from '../../app/core/crypto/bytes.js';
import { randomBytes } from '../../app/core/crypto/random.js';
import { startTestRelay } from '../support/relay.js';
import { useCleanups } from '../support/cleanups.js';
import { value, code } from '../support/result.js';

const PASSPHRASE = 'a long enough passphrase';
const BACKUP_PASSPHRASE = 'seven lanterns over a quiet harbour';
const cleanups = useCleanups();

async function core(options: CoreOptions): Promise<Core> {
  const opened = await openCore(options);
  cleanups.push(() => opened.close());
  return opened;
}

describe('backups in the core’s backups folder (hosts without a file dialog)', () => {
  it('exports under a dated name, lists only real backups, and restores a chosen one into an empty profile', async () => {
    const relay = await startTestRelay();
    cleanups.push(() => relay.close());
    const sourceDir = await cleanups.tempDir('parley-shelf-src-');
    const freshDir = await cleanups.tempDir('parley-shelf-fresh-');
    const otherDir = await cleanups.tempDir('parley-shelf-other-');
    const name = `shelf${toHex(randomBytes(5))}`;
    const source = await core({ profileDir: sourceDir });
    value(await source.invoke('profile.create', { username: name, passphrase: PASSPHRASE, relayUrl: relay.url }));

    expect(code(await source.invoke('backup.export', { passphrase: 'not the passphrase at all', backupPassphrase: BACKUP_PASSPHRASE }))).toBe('VAULT_WRONG_PASSPHRASE');
    expect(code(await source.invoke('backup.export', { passphrase: PASSPHRASE, backupPassphrase: 'password1' }))).toBe('VAULT_WEAK_PASSPHRASE');
    const first = value(await source.invoke('backup.export', { passphrase: PASSPHRASE, backupPassphrase: BACKUP_PASSPHRASE }));
    const second = value(await source.invoke('backup.export', { passphrase: PASSPHRASE, backupPassphrase: BACKUP_PASSPHRASE }));
    expect(first.fileName).toMatch(/^parley-\d{4}-\d\d-\d\dT\d\d-\d\d-\d\dZ(-\d+)?\.parley-backup$/);
    expect(second.fileName).not.toBe(first.fileName);
    const shelf = path.join(sourceDir, 'backups');
    expect((await readdir(shelf)).sort()).toEqual([first.fileName, second.fileName].sort());
    await source.lock('user');

    // Only files that start like a Parley backup are offered; a truncated one still is, and fails on restore.
    const bytes = await readFile(path.join(shelf, first.fileName));
    await writeFile(path.join(shelf, 'notes.txt'), 'not a backup');
    await writeFile(path.join(shelf, 'cut.parley-backup'), bytes.subarray(0, bytes.length - 100));
    await writeFile(path.join(shelf, 'unfinished.parley-backup.tmp'), bytes.subarray(0, 1000));

    const fresh = await core({ profileDir: freshDir, backupDir: shelf });
    const sources = value(await fresh.invoke('backup.sources', {}));
    if (sources.picker !== 'list') throw new Error('the core lists its backups folder');
    expect(sources.files.map((file) => file.fileName).sort()).toEqual(['cut.parley-backup', first.fileName, second.fileName].sort());
    expect(sources.files.find((file) => file.fileName === first.fileName)?.bytes).toBe(bytes.length);

    const restore = (fileName: string | undefined, backupPassphrase = BACKUP_PASSPHRASE) =>
      fresh.invoke('backup.restore', { backupPassphrase, ...(fileName === undefined ? {} : { fileName }) });
    expect(code(await restore(undefined))).toBe('VALIDATION_FAILED');
    expect(code(await restore('../src/vault.json'))).toBe('VALIDATION_FAILED');
    expect(code(await restore('missing.parley-backup'))).toBe('BACKUP_NOT_OURS');
    expect(code(await restore('notes.txt'))).toBe('BACKUP_NOT_OURS');
    expect(code(await restore('cut.parley-backup'))).toBe('BACKUP_CORRUPT');
    expect(code(await restore(first.fileName, 'not the backup passphrase'))).toBe('BACKUP_WRONG_KEY');
    expect(await readdir(freshDir)).toEqual([]);
    expect(value(await fresh.invoke('profile.status', {}))).toEqual({ state: 'none' });

    expect(value(await restore(first.fileName))).toEqual({ state: 'locked' });
    expect(value(await fresh.invoke('profile.unlock', { passphrase: PASSPHRASE })).username).toBe(name);
    expect(code(await restore(second.fileName))).toBe('BACKUP_TARGET_NOT_EMPTY');

    // The default folder lives inside the profile folder, and its presence does not make a new profile "not empty".
    const otherShelf = path.join(otherDir, 'backups');
    await mkdir(otherShelf);
    await copyFile(path.join(shelf, second.fileName), path.join(otherShelf, second.fileName));
    const other = await core({ profileDir: otherDir });
    expect(value(await other.invoke('backup.restore', { backupPassphrase: BACKUP_PASSPHRASE, fileName: second.fileName }))).toEqual({ state: 'locked' });
    expect(await readdir(otherDir)).toEqual(expect.arrayContaining(['backups', 'parley.db', 'vault.json']));
  }, 90_000);
});
