import { randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { WebSocket } from 'ws';
import { expect, test } from './hosts.js';
import { addContact, conversationWith, onboard, openParley, send, type Person } from './people.js';

function tokenOf(devhostUrl: string): string {
  const token = new URL(devhostUrl).hash.replace(/^#token=/, '');
  expect(token.length).toBeGreaterThan(16);
  return token;
}

test('two people onboard, add each other, talk live, and the history survives a reload', async ({ browser, hosts }, testInfo) => {
  const run = randomBytes(3).toString('hex');
  const alice: Person = { name: `alice-${run}`, passphrase: `alice passphrase ${run}` };
  const bob: Person = { name: `bob-${run}`, passphrase: `bob passphrase ${run}` };
  let aliceRecoveryKey = '';
  const a = await openParley(browser, hosts.alice);
  const b = await openParley(browser, hosts.bob);

  await test.step('the token leaves the address bar', () => {
    expect(new URL(a.page.url()).hash).toBe('');
  });

  await test.step('both onboard and add each other', async () => {
    await expect(a.page.getByRole('heading', { name: 'Create your profile' })).toBeVisible();
    await a.page.screenshot({ path: testInfo.outputPath('onboarding.png') });
    aliceRecoveryKey = await onboard(a.page, alice, hosts.relayUrl);
    await onboard(b.page, bob, hosts.relayUrl);
    await addContact(a.page, bob.name);
    await addContact(b.page, alice.name);
  });

  const hello = `Hello ${bob.name}, it is ${alice.name}`;
  const reply = `Hi ${alice.name}! Loud and clear`;
  await test.step('messages arrive live both ways', async () => {
    await send(a.page, hello);
    const sent = conversationWith(a.page, bob.name).getByTestId('message').filter({ hasText: hello });
    await expect(sent).toHaveAttribute('data-direction', 'out');
    const received = conversationWith(b.page, alice.name).getByTestId('message').filter({ hasText: hello });
    await expect(received).toBeVisible();
    await expect(received).toHaveAttribute('data-direction', 'in');
    // Bob's core stored it and acknowledged it: the relay's receipt turns Alice's tick into "delivered".
    await expect(sent).toHaveAttribute('data-status', 'delivered');
    await expect(sent.getByRole('img', { name: 'Delivered' })).toHaveAttribute('title', 'Delivered');

    await send(b.page, reply);
    await expect(conversationWith(a.page, bob.name).getByText(reply)).toBeVisible();
  });

  await test.step('Shift+Enter writes a newline instead of sending', async () => {
    const composer = a.page.getByRole('textbox', { name: 'Message' });
    await composer.fill('first line');
    await composer.press('Shift+Enter');
    await composer.pressSequentially('second line');
    await expect(composer).toHaveValue('first line\nsecond line');
    await composer.press('Enter');
    const twoLines = conversationWith(b.page, alice.name).getByTestId('message').filter({ hasText: 'first line' });
    await expect(twoLines).toContainText('second line');
  });

  await test.step('both see the same safety number; a wrong scan is refused, the right one verifies', async () => {
    await a.page.getByRole('button', { name: 'Safety number' }).click();
    await b.page.getByRole('button', { name: 'Safety number' }).click();
    const digitsA = a.page.getByTestId('safety-digits');
    const digitsB = b.page.getByTestId('safety-digits');
    await expect(digitsA).toHaveText(/^(\d{5}){12}$/);
    const shown = (await digitsB.textContent()) ?? '';
    await expect(digitsA).toHaveText(shown);
    await expect(a.page.getByRole('img', { name: `QR code of the safety number with ${bob.name}` })).toBeVisible();
    await a.page.screenshot({ path: testInfo.outputPath('safety-number.png') });

    const scanned = a.page.getByLabel('Scanned code (paste what the scanner read)');
    await scanned.fill(`PARLEY-SAFETY-1:${'0'.repeat(60)}`);
    await a.page.getByRole('button', { name: 'Compare and verify' }).click();
    await expect(a.page.getByTestId('safety-panel').getByRole('alert')).toHaveText('The scanned code does not match. Do not mark this contact verified.');
    await scanned.fill(`PARLEY-SAFETY-1:${shown}`);
    await a.page.getByRole('button', { name: 'Compare and verify' }).click();
    await expect(a.page.getByTestId('safety-status')).toHaveText(`✓ ${bob.name} is verified`);
    await a.page.getByRole('button', { name: 'Close' }).click();
    await b.page.getByRole('button', { name: 'Close' }).click();
  });

  await a.page.screenshot({ path: testInfo.outputPath('conversation-alice.png') });
  await b.page.screenshot({ path: testInfo.outputPath('conversation-bob.png') });

  await test.step('after a reload the profile is locked; a wrong passphrase is refused', async () => {
    await a.page.reload();
    await expect(a.page.getByRole('heading', { name: /^Welcome back/ })).toBeVisible();
    await a.page.getByLabel('Passphrase').fill(`not ${alice.passphrase}`);
    await a.page.getByRole('button', { name: 'Unlock' }).click();
    await expect(a.page.getByRole('alert')).toHaveText('That passphrase is not correct. Try again.');
    await a.page.screenshot({ path: testInfo.outputPath('unlock-wrong-passphrase.png') });
  });

  await test.step('the right passphrase unlocks and shows the history', async () => {
    await a.page.getByLabel('Passphrase').fill(alice.passphrase);
    await a.page.getByRole('button', { name: 'Unlock' }).click();
    const history = conversationWith(a.page, bob.name);
    await expect(history.getByText(hello)).toBeVisible();
    await expect(history.getByText(reply)).toBeVisible();
    await expect(history.getByTestId('message').filter({ hasText: 'first line' })).toContainText('second line');
  });

  await test.step('search finds a message by a word prefix and opens the conversation at it', async () => {
    const word = hello.split(' ')[0] ?? hello;
    await a.page.getByRole('searchbox', { name: 'Search messages' }).fill(`${word.slice(0, 3)} in:${bob.name}`);
    await a.page.getByRole('searchbox', { name: 'Search messages' }).press('Enter');
    const results = a.page.getByRole('list', { name: 'Search results' });
    await results.getByRole('button').filter({ hasText: bob.name }).first().click();
    await expect(conversationWith(a.page, bob.name).locator('[aria-current="true"]')).toContainText(word);
  });

  await test.step('lock now, then reset the forgotten passphrase with the recovery key', async () => {
    await a.page.getByRole('button', { name: 'Lock', exact: true }).click();
    await a.page.getByRole('button', { name: 'Forgot your passphrase? Use your recovery key' }).click();
    await a.page.getByRole('textbox', { name: 'Recovery key' }).fill(aliceRecoveryKey);
    await a.page.getByLabel('New passphrase', { exact: true }).fill(`reset ${alice.passphrase} again`);
    await a.page.getByLabel('Confirm new passphrase').fill(`reset ${alice.passphrase} again`);
    await a.page.getByRole('button', { name: 'Reset passphrase' }).click();
    await expect(conversationWith(a.page, bob.name).getByText(reply)).toBeVisible();
  });

  expect(a.errors).toEqual([]);
  expect(b.errors).toEqual([]);
});

test('the bridge refuses a wrong token and a foreign origin, and survives malformed messages', async ({ browser, hosts }) => {
  const { page } = await openParley(browser, hosts.alice);
  const origin = new URL(hosts.alice).origin;
  const bridgeUrl = (token: string): string => `ws://${new URL(hosts.alice).host}/bridge?token=${token}`;

  const fromPage = await page.evaluate(
    (url) =>
      new Promise<string>((resolve) => {
        // The page's own WebSocket, not the ws import: this function runs in the browser.
        const socket = new window.WebSocket(url);
        socket.onopen = () => resolve('open');
        socket.onclose = () => resolve('refused');
      }),
    bridgeUrl('A'.repeat(43)),
  );
  expect(fromPage).toBe('refused');

  const upgradeStatus = (url: string, socketOrigin: string): Promise<number | 'open'> =>
    new Promise((resolve, reject) => {
      const socket = new WebSocket(url, { origin: socketOrigin });
      socket.on('open', () => {
        socket.close();
        resolve('open');
      });
      socket.on('unexpected-response', (_request, response) => resolve(response.statusCode ?? 0));
      socket.on('error', reject);
    });
  const token = tokenOf(hosts.alice);
  expect(await upgradeStatus(bridgeUrl('wrong'), origin)).toBe(401);
  expect(await upgradeStatus(bridgeUrl(token), 'http://evil.example')).toBe(403);
  expect(await upgradeStatus(bridgeUrl(token), origin)).toBe('open');

  const socket = new WebSocket(bridgeUrl(token), { origin });
  const replies: unknown[] = [];
  socket.on('message', (data: Buffer) => replies.push(JSON.parse(data.toString('utf8'))));
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  try {
    socket.send('{not json');
    await expect.poll(() => replies).toContainEqual({ id: null, result: { ok: false, error: expect.objectContaining({ code: 'VALIDATION_FAILED' }) } });
    socket.send(JSON.stringify({ id: 7, method: 'profile.delete', input: {} }));
    await expect.poll(() => replies).toContainEqual({ id: 7, result: { ok: false, error: expect.objectContaining({ code: 'IPC_UNKNOWN_METHOD' }) } });
    socket.send(JSON.stringify({ id: 8, method: 'profile.status', input: {} }));
    await expect.poll(() => replies).toContainEqual({ id: 8, result: expect.objectContaining({ ok: true }) });
  } finally {
    socket.close();
  }
});

test('the devhost sends a strict CSP and serves nothing outside the renderer', async ({ hosts }) => {
  const base = new URL(hosts.alice);
  const get = (rawPath: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, unknown> }> =>
    new Promise((resolve, reject) => {
      const request = httpRequest({ host: base.hostname, port: base.port, path: rawPath, method: 'GET', headers }, (response) => {
        response.resume();
        resolve({ status: response.statusCode ?? 0, headers: response.headers });
      });
      request.on('error', reject);
      request.end();
    });

  const index = await get('/');
  expect(index.status).toBe(200);
  expect(index.headers['content-type']).toBe('text/html; charset=utf-8');
  expect(index.headers['content-security-policy']).toContain("default-src 'none'");
  expect(index.headers['content-security-policy']).toContain("script-src 'self'");
  expect(index.headers['x-content-type-options']).toBe('nosniff');
  expect(index.headers['referrer-policy']).toBe('no-referrer');

  // A page on another name that resolves to 127.0.0.1 (DNS rebinding) gets nothing.
  expect((await get('/', { Host: `rebound.example:${base.port}` })).status).toBe(421);

  for (const attempt of ['/../package.json', '/..%2f..%2fpackage.json', '/assets/..%2f..%2f..%2fpackage.json', '/%2e%2e/%2e%2e/package.json']) {
    const response = await get(attempt);
    expect(response.status, attempt).toBe(404);
  }
});
