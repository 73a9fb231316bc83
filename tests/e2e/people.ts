import type { Browser, ConsoleMessage, Page } from '@playwright/test';
import { expect } from './hosts.js';

/** What a person does in the app, shared by the UI specs. */

export interface Person {
  name: string;
  passphrase: string;
}

/** A page that records console errors, so a CSP violation or an uncaught error fails the test. */
export async function openParley(browser: Browser, url: string): Promise<{ page: Page; errors: string[] }> {
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('console', (message: ConsoleMessage) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  page.on('pageerror', (error) => errors.push(error.message));
  await page.goto(url);
  return { page, errors };
}

/** Onboard and return the recovery key the app showed. */
export async function onboard(page: Page, person: Person, relayUrl: string): Promise<string> {
  await expect(page.getByRole('heading', { name: 'Create your profile' })).toBeVisible();
  await expect(page.getByLabel('Relay URL')).toHaveValue(relayUrl);
  await page.getByLabel('Username').fill(person.name);
  await page.getByLabel('Passphrase', { exact: true }).fill(person.passphrase);
  await page.getByLabel('Confirm passphrase').fill(person.passphrase);
  await page.getByRole('button', { name: 'Create profile' }).click();
  // The recovery key is shown once and must be retyped before the profile opens.
  const shown = page.getByTestId('recovery-key');
  await expect(shown).toHaveText(/^[0-9A-Z]{4}(-[0-9A-Z]{4}){7}$/);
  const recoveryKey = (await shown.textContent()) ?? '';
  await page.getByRole('button', { name: 'I have written it down' }).click();
  await page.getByRole('textbox', { name: 'Recovery key' }).fill('AAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AAAA');
  await page.getByRole('button', { name: 'Confirm' }).click();
  await expect(page.getByRole('alert')).toContainText('does not match');
  await page.getByRole('textbox', { name: 'Recovery key' }).fill(recoveryKey.toLowerCase());
  await page.getByRole('button', { name: 'Confirm' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Online' })).toBeVisible();
  return recoveryKey;
}

export async function addContact(page: Page, username: string): Promise<void> {
  await page.getByLabel('Add contact').fill(username);
  await page.getByRole('button', { name: 'Add', exact: true }).click();
  await expect(page.getByRole('heading', { name: username, level: 2 })).toBeVisible();
}

export function conversationWith(page: Page, username: string) {
  return page.getByRole('log', { name: `Messages with ${username}` });
}

export async function send(page: Page, text: string): Promise<void> {
  const composer = page.getByRole('textbox', { name: 'Message' });
  await composer.fill(text);
  await composer.press('Enter');
  await expect(composer).toHaveValue('');
}
