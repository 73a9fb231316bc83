import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect, test } from '@playwright/test';
import { captured, startDevhost, startRelay } from './hosts.js';
import { addContact, conversationWith, onboard, openParley, send, type Person } from './people.js';
import type { Spawned } from './processes.js';

const BACKUP_PASSPHRASE = 'seven lanterns over a quiet harbour';

test('a backup exported in Settings restores the whole profile on a fresh install through onboarding', async ({ browser }, testInfo) => {
  const root = await mkdtemp(path.join(tmpdir(), 'parley-e2e-backup-'));
  const started: Spawned[] = [];
  const spawned = async (starting: Promise<Spawned>): Promise<string> => {
    const child = await starting;
    started.push(child);
    return captured(child);
  };
  try {
    const relayUrl = await spawned(startRelay(path.join(root, 'relay')));
    const aliceDir = path.join(root, 'alice');
    const [aliceUrl, bobUrl] = await Promise.all([spawned(startDevhost(aliceDir, relayUrl)), spawned(startDevhost(path.join(root, 'bob'), relayUrl))]);
    const run = randomBytes(3).toString('hex');
    const alice: Person = { name: `alice-${run}`, passphrase: `alice passphrase ${run}` };
    const bob: Person = { name: `bob-${run}`, passphrase: `bob passphrase ${run}` };
    const hello = `Backup canary ${run}: hello ${bob.name}`;
    const reply = `Reply canary ${run} from ${bob.name}`;
    const a = await openParley(browser, aliceUrl);
    const b = await openParley(browser, bobUrl);

    await test.step('two people talk', async () => {
      await onboard(a.page, alice, relayUrl);
      await onboard(b.page, bob, relayUrl);
      await addContact(a.page, bob.name);
      await addContact(b.page, alice.name);
      await send(a.page, hello);
      await expect(conversationWith(b.page, alice.name).getByText(hello)).toBeVisible();
      await send(b.page, reply);
      await expect(conversationWith(a.page, bob.name).getByText(reply)).toBeVisible();
    });

    let fileName = '';
    await test.step('Settings → Backups refuses a wrong passphrase, then writes an encrypted backup into the profile’s backups folder', async () => {
      await a.page.getByRole('button', { name: 'Settings' }).click();
      const backups = a.page.getByRole('form', { name: 'Backups' });
      await backups.getByLabel('Passphrase to back up').fill(`not ${alice.passphrase}`);
      await backups.getByLabel('Backup passphrase', { exact: true }).fill('password1');
      await expect(backups.locator('meter')).toHaveAttribute('value', /^[012]$/);
      await backups.getByLabel('Backup passphrase', { exact: true }).fill(BACKUP_PASSPHRASE);
      await backups.getByLabel('Confirm backup passphrase').fill(BACKUP_PASSPHRASE);
      await backups.getByRole('button', { name: 'Export backup' }).click();
      await expect(backups.getByRole('alert')).toHaveText('That passphrase is not correct. Try again.');

      await backups.getByLabel('Passphrase to back up').fill(alice.passphrase);
      await backups.getByRole('button', { name: 'Export backup' }).click();
      const saved = backups.getByRole('status');
      await expect(saved).toHaveText(/^Backup saved as (parley-\S+\.parley-backup)\./);
      await a.page.screenshot({ path: testInfo.outputPath('settings-backups.png') });
      fileName = /^Backup saved as (\S+\.parley-backup)\./.exec((await saved.textContent()) ?? '')?.[1] ?? '';
      expect(await readdir(path.join(aliceDir, 'backups'))).toEqual([fileName]);
      const bytes = await readFile(path.join(aliceDir, 'backups', fileName));
      for (const canary of [hello, reply, alice.name, bob.name]) expect(bytes.includes(canary)).toBe(false);
      // A damaged copy beside it, to be offered and refused at restore.
      await writeFile(path.join(aliceDir, 'backups', 'damaged.parley-backup'), bytes.subarray(0, bytes.length - 64));
      await a.page.context().close();
    });

    const restoredUrl = await spawned(startDevhost(path.join(root, 'restored'), relayUrl, ['--backups', path.join(aliceDir, 'backups')]));
    const c = await openParley(browser, restoredUrl);
    await test.step('a fresh install restores from the backup at onboarding; a wrong backup passphrase and a damaged file are refused', async () => {
      await expect(c.page.getByRole('heading', { name: 'Create your profile' })).toBeVisible();
      await c.page.getByRole('button', { name: 'Restore from a backup' }).click();
      await expect(c.page.getByRole('heading', { name: 'Restore from a backup' })).toBeVisible();

      await c.page.getByRole('radio', { name: /^damaged\.parley-backup/ }).check();
      await c.page.getByLabel('Backup passphrase').fill(BACKUP_PASSPHRASE);
      await c.page.getByRole('button', { name: 'Restore', exact: true }).click();
      await expect(c.page.getByRole('alert')).toHaveText('This backup file is damaged or incomplete, so it cannot be restored. Nothing was changed.');

      await c.page.getByRole('radio', { name: new RegExp(`^${fileName.replace(/\./g, '\\.')}`) }).check();
      await c.page.getByLabel('Backup passphrase').fill('not the backup passphrase');
      await c.page.getByRole('button', { name: 'Restore', exact: true }).click();
      await expect(c.page.getByRole('alert')).toHaveText('That backup passphrase does not open this backup. Nothing was changed.');
      await c.page.screenshot({ path: testInfo.outputPath('restore-wrong-passphrase.png') });
      expect(await readdir(path.join(root, 'restored'))).toEqual([]);

      await c.page.getByLabel('Backup passphrase').fill(BACKUP_PASSPHRASE);
      await c.page.getByRole('button', { name: 'Restore', exact: true }).click();
      await expect(c.page.getByRole('heading', { name: /^Welcome back/ })).toBeVisible();
    });

    await test.step('the restored profile opens with its own passphrase, shows the conversation, and receives as alice', async () => {
      await c.page.getByLabel('Passphrase').fill(alice.passphrase);
      await c.page.getByRole('button', { name: 'Unlock' }).click();
      const history = conversationWith(c.page, bob.name);
      await expect(history.getByText(hello)).toBeVisible();
      await expect(history.getByText(reply)).toBeVisible();
      await expect(c.page.getByRole('status').filter({ hasText: 'Online' })).toBeVisible();
      const after = `After the restore ${run}`;
      await send(b.page, after);
      await expect(history.getByText(after)).toBeVisible();
    });

    expect(a.errors).toEqual([]);
    expect(b.errors).toEqual([]);
    expect(c.errors).toEqual([]);
  } finally {
    await Promise.all(started.map((child) => child.stop()));
    await rm(root, { recursive: true, force: true });
  }
});
