import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { Secret, TOTP } from 'otpauth';
import { spawnUntil, type Spawned } from './processes.js';
import { openParley } from './people.js';

const repoRoot = path.resolve(import.meta.dirname, '../..');
const tsx = path.join(repoRoot, 'node_modules', '.bin', 'tsx');
const PASSPHRASE = 'correct horse battery staple lantern';
const STEP_MS = 30_000;

function captured(spawned: Spawned): string {
  const value = spawned.match[1];
  if (value === undefined) throw new Error('the address pattern has no group');
  return value;
}

async function fillOnboarding(page: Page, username: string): Promise<void> {
  await expect(page.getByRole('heading', { name: 'Create your profile' })).toBeVisible();
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Passphrase', { exact: true }).fill(PASSPHRASE);
  await page.getByLabel('Confirm passphrase').fill(PASSPHRASE);
}

/** Write down and retype the recovery key the app shows once, until the profile is online. */
async function confirmRecoveryKey(page: Page): Promise<void> {
  const shown = page.getByTestId('recovery-key');
  await expect(shown).toHaveText(/^[0-9A-Z]{4}(-[0-9A-Z]{4}){7}$/);
  const recoveryKey = (await shown.textContent()) ?? '';
  await page.getByRole('button', { name: 'I have written it down' }).click();
  await page.getByRole('textbox', { name: 'Recovery key' }).fill(recoveryKey);
  await page.getByRole('button', { name: 'Confirm' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Online' })).toBeVisible();
}

/**
 * Codes as an authenticator app would give them. Each is good once, so each use takes a later 30 s step
 * than the last, starting one step back: the relay accepts one step either side of its clock. When every
 * step inside that tolerance has been used, it waits for the next step, as a person waits for a new code.
 */
function authenticator(secret: string): { code(): Promise<string>; wrong(): string } {
  const totp = new TOTP({ secret: Secret.fromBase32(secret), digits: 6, period: 30, algorithm: 'SHA1' });
  let lastStep = -Infinity;
  return {
    async code() {
      for (;;) {
        const now = Date.now();
        const current = Math.floor(now / STEP_MS);
        // A code for the step before expires at the next boundary: near one, the relay might check it too late.
        const oldest = STEP_MS - (now % STEP_MS) > 5_000 ? current - 1 : current;
        const step = Math.max(lastStep + 1, oldest);
        if (step <= current + 1) {
          lastStep = step;
          return totp.generate({ timestamp: step * STEP_MS });
        }
        // Nothing to wait on but the clock: the next step begins at the boundary.
        await new Promise((resolve) => setTimeout(resolve, STEP_MS - (now % STEP_MS) + 50));
      }
    },
    wrong() {
      const current = Math.floor(Date.now() / STEP_MS);
      const valid = new Set([-1, 0, 1, 2].map((offset) => totp.generate({ timestamp: (current + offset) * STEP_MS })));
      for (let n = 0; ; n += 1) {
        const candidate = String(n).padStart(6, '0');
        if (!valid.has(candidate)) return candidate;
      }
    },
  };
}

test('the registration lock: turned on from a QR code, a reinstall takes the name back only with a right code', async ({ browser }) => {
  const root = await mkdtemp(path.join(tmpdir(), 'parley-e2e-reglock-'));
  const started: Spawned[] = [];
  try {
    const relay = await spawnUntil(tsx, ['relay/src/cli.ts', '--host', '127.0.0.1', '--port', '0', '--data', path.join(root, 'relay')], /listening on (ws:\/\/\S+)/, repoRoot);
    started.push(relay);
    const relayUrl = captured(relay);
    const devhost = async (name: string): Promise<string> => {
      const spawned = await spawnUntil(tsx, ['app/devhost/cli.ts', '--profile', path.join(root, name), '--port', '0', '--relay', relayUrl], /Parley is running at (http:\/\/\S+)/, repoRoot);
      started.push(spawned);
      return captured(spawned);
    };
    const [ownerUrl, reinstallUrl] = await Promise.all([devhost('owner'), devhost('reinstall')]);
    // Five code attempts in all (two wrong, three right): exactly the relay's default allowance per username.
    const username = `carol${Date.now().toString(36)}`;
    const owner = await openParley(browser, ownerUrl);
    let codes: ReturnType<typeof authenticator> | undefined;

    await test.step('the owner turns the lock on: QR code and key shown, a wrong code refused, a right one accepted', async () => {
      await fillOnboarding(owner.page, username);
      await owner.page.getByRole('button', { name: 'Create profile' }).click();
      await confirmRecoveryKey(owner.page);
      await owner.page.getByRole('button', { name: 'Settings' }).click();
      await owner.page.getByRole('button', { name: 'Turn on registration lock' }).click();
      const qr = owner.page.getByRole('img', { name: 'QR code of the registration lock secret' });
      await expect(qr).toBeVisible();
      // Loaded under the strict CSP: a blocked image has no natural size.
      expect(await qr.evaluate((img: HTMLImageElement) => img.naturalWidth)).toBeGreaterThan(0);
      const secret = (await owner.page.getByLabel('Registration lock key').textContent()) ?? '';
      expect(secret).toMatch(/^[A-Z2-7]{32}$/);
      codes = authenticator(secret);
      await owner.page.getByLabel('Code from your authenticator app').fill(codes.wrong());
      await owner.page.getByRole('button', { name: 'Confirm and turn on' }).click();
      await expect(owner.page.getByRole('alert')).toContainText('wrong or has expired');
      await owner.page.getByLabel('Code from your authenticator app').fill(await codes.code());
      await owner.page.getByRole('button', { name: 'Confirm and turn on' }).click();
      await expect(owner.page.getByText('On: setting up this username')).toBeVisible();
      expect(owner.errors).toEqual([]);
    });

    const reinstall = await openParley(browser, reinstallUrl);
    await test.step('a reinstall is refused the name, then asked for the code: wrong refused, right accepted', async () => {
      if (codes === undefined) throw new Error('the lock was not set up');
      await fillOnboarding(reinstall.page, username);
      await reinstall.page.getByRole('button', { name: 'Create profile' }).click();
      await expect(reinstall.page.getByRole('alert')).toContainText('already taken');
      await reinstall.page.getByLabel('Registration lock code').fill(codes.wrong());
      await reinstall.page.getByRole('button', { name: 'Create profile' }).click();
      await expect(reinstall.page.getByRole('alert')).toContainText('wrong or has expired');
      await reinstall.page.getByLabel('Registration lock code').fill(await codes.code());
      await reinstall.page.getByRole('button', { name: 'Create profile' }).click();
      await confirmRecoveryKey(reinstall.page);
    });

    await test.step('the new install sees the lock on and turns it off with a code', async () => {
      if (codes === undefined) throw new Error('the lock was not set up');
      await reinstall.page.getByRole('button', { name: 'Settings' }).click();
      await expect(reinstall.page.getByText('On: setting up this username')).toBeVisible();
      await reinstall.page.getByLabel('Code to turn off').fill(await codes.code());
      await reinstall.page.getByRole('button', { name: 'Turn off registration lock' }).click();
      await expect(reinstall.page.getByText('Off: turn it on')).toBeVisible();
      expect(reinstall.errors).toEqual([]);
    });
  } finally {
    await Promise.all(started.map((spawned) => spawned.stop()));
    await rm(root, { recursive: true, force: true });
  }
});
