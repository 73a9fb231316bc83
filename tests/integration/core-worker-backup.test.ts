import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { toHex } from '../../app/core/crypto/bytes.js';
import { randomBytes } from '../../app/core/crypto/random.js';
import { openCoreInWorker, type WorkerCore } from '../../app/core/worker/open-core-in-worker.js';
import { startTestRelay } from '../support/relay.js';
import { useCleanups } from '../support/cleanups.js';
import { value } from '../support/result.js';
import { codeOfAsync } from '../support/error-code.js';

const PASSPHRASE = 'a long enough passphrase';
const BACKUP_PASSPHRASE = 'seven lanterns over a quiet harbour';
const cleanups = useCleanups();

async function workerCore(profileDir: string): Promise<WorkerCore> {
  const opened = await openCoreInWorker({ profileDir });
  cleanups.push(() => opened.close());
  return opened;
}

describe('the worker proxy carries the calls of hosts with their own file dialog', () => {
  it('checks, exports to a chosen file and restores from one, with the core’s coded errors', async () => {
    const relay = await startTestRelay();
    cleanups.push(() => relay.close());
    const sourceDir = await cleanups.tempDir('parley-wbk-src-');
    const freshDir = await cleanups.tempDir('parley-wbk-fresh-');
    const documents = await cleanups.tempDir('parley-wbk-docs-');
    const name = `wbk${toHex(randomBytes(5))}`;
    const source = await workerCore(sourceDir);
    value(await source.invoke('profile.create', { username: name, passphrase: PASSPHRASE, relayUrl: relay.url }));

    expect(await codeOfAsync(() => source.checkBackupExport({ passphrase: 'not the passphrase at all', backupPassphrase: BACKUP_PASSPHRASE }))).toBe('VAULT_WRONG_PASSPHRASE');
    expect(await codeOfAsync(() => source.checkBackupExport({ passphrase: PASSPHRASE, backupPassphrase: 'password1' }))).toBe('VAULT_WEAK_PASSPHRASE');
    await source.checkBackupExport({ passphrase: PASSPHRASE, backupPassphrase: BACKUP_PASSPHRASE });
    const file = path.join(documents, 'chosen.parley-backup');
    await source.exportBackupTo(file, { passphrase: PASSPHRASE, backupPassphrase: BACKUP_PASSPHRASE });
    expect((await readFile(file)).subarray(0, 8).toString('latin1')).toBe('PARLEYBK');
    await source.lock('user');

    const fresh = await workerCore(freshDir);
    expect(await codeOfAsync(() => fresh.restoreBackupFrom(file, 'not the backup passphrase'))).toBe('BACKUP_WRONG_KEY');
    await fresh.restoreBackupFrom(file, BACKUP_PASSPHRASE);
    expect(value(await fresh.invoke('profile.unlock', { passphrase: PASSPHRASE })).username).toBe(name);
  }, 60_000);
});
