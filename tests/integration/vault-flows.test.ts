import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { toHex } from '../../app/core/crypto/bytes.js';
import { randomBytes } from '../../app/core/crypto/random.js';
import { loadSodium } from '../../app/core/crypto/sodium.js';
import { openCore, type Core } from '../../app/core/index.js';
import type { KeychainPort } from '../../app/core/vault/keychain.js';
import { startTestRelay } from '../support/relay.js';
import { useCleanups } from '../support/cleanups.js';
import { value, code } from '../support/result.js';

const PASSPHRASE = 'a long enough passphrase';
const NEW_PASSPHRASE = 'quiet violet harbour lanterns';

const cleanups = useCleanups();

async function setup(keychain?: KeychainPort): Promise<{ dir: string; relayUrl: string; open: () => Promise<Core> }> {
  const relay = await startTestRelay();
  cleanups.push(() => relay.close());
  const dir = await mkdtemp(path.join(tmpdir(), 'parley-vaultflow-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const open = async (): Promise<Core> => {
    const core = await openCore({ profileDir: dir, keychain });
    cleanups.push(() => core.close());
    return core;
  };
  return { dir, relayUrl: relay.url, open };
}

const name = (): string => `v${toHex(randomBytes(5))}`;

describe('vault through the core', () => {
  it('shows a recovery key once, wants it retyped, refuses weak passphrases with a stable code', async () => {
    const { relayUrl, open } = await setup();
    const core = await open();
    const weak = await core.invoke('profile.create', { username: name(), passphrase: 'password1', relayUrl });
    expect(code(weak)).toBe('VAULT_WEAK_PASSPHRASE');
    expect(weak.ok ? '' : weak.error.message).toMatch(/commonly used/);
    expect(value(await core.invoke('profile.status', {})).state).toBe('none');

    const created = value(await core.invoke('profile.create', { username: name(), passphrase: PASSPHRASE, relayUrl }));
    expect(created.recoveryKey).toMatch(/^[0-9A-Z]{4}(-[0-9A-Z]{4}){7}$/);
    expect(value(await core.invoke('profile.status', {})).recoveryKeyPending).toBe(true);
    expect(code(await core.invoke('profile.confirmRecoveryKey', { recoveryKey: 'AAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AAAA' }))).toBe('VAULT_WRONG_RECOVERY_KEY');
    value(await core.invoke('profile.confirmRecoveryKey', { recoveryKey: created.recoveryKey.toLowerCase() }));
    expect(value(await core.invoke('profile.status', {})).recoveryKeyPending).toBe(false);
  });

  it('a wrong passphrase changes nothing; the recovery key resets the passphrase and retires the old one; a new recovery key retires the old key', async () => {
    const { dir, relayUrl, open } = await setup();
    let core = await open();
    const username = name();
    const created = value(await core.invoke('profile.create', { username, passphrase: PASSPHRASE, relayUrl }));
    await core.close();
    const vaultFile = path.join(dir, 'vault.json');
    const before = await readFile(vaultFile);

    core = await open();
    expect(code(await core.invoke('profile.unlock', { passphrase: 'not the passphrase' }))).toBe('VAULT_WRONG_PASSPHRASE');
    expect(code(await core.invoke('profile.changePassphrase', { passphrase: 'not the passphrase', newPassphrase: NEW_PASSPHRASE }))).toBe('VAULT_WRONG_PASSPHRASE');
    expect(code(await core.invoke('profile.recover', { recoveryKey: 'AAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AAAA', newPassphrase: NEW_PASSPHRASE }))).toBe('VAULT_WRONG_RECOVERY_KEY');
    expect(code(await core.invoke('profile.recover', { recoveryKey: created.recoveryKey, newPassphrase: 'password1' }))).toBe('VAULT_WEAK_PASSPHRASE');
    expect(await readFile(vaultFile)).toEqual(before);
    expect(value(await core.invoke('profile.status', {})).state).toBe('locked');

    expect(value(await core.invoke('profile.recover', { recoveryKey: created.recoveryKey, newPassphrase: NEW_PASSPHRASE })).username).toBe(username);
    expect(value(await core.invoke('profile.status', {})).state).toBe('unlocked');
    expect(value(await core.invoke('settings.get', {})).hasRecoveryKey).toBe(true);

    // A new recovery key retires the old one and waits to be retyped.
    expect(code(await core.invoke('profile.newRecoveryKey', { passphrase: PASSPHRASE }))).toBe('VAULT_WRONG_PASSPHRASE');
    const fresh = value(await core.invoke('profile.newRecoveryKey', { passphrase: NEW_PASSPHRASE })).recoveryKey;
    expect(fresh).not.toBe(created.recoveryKey);
    expect(value(await core.invoke('profile.status', {})).recoveryKeyPending).toBe(true);
    value(await core.invoke('profile.confirmRecoveryKey', { recoveryKey: fresh }));
    await core.close();
    core = await open();
    expect(code(await core.invoke('profile.recover', { recoveryKey: created.recoveryKey, newPassphrase: NEW_PASSPHRASE }))).toBe('VAULT_WRONG_RECOVERY_KEY');
    await core.close();

    core = await open();
    expect(code(await core.invoke('profile.unlock', { passphrase: PASSPHRASE }))).toBe('VAULT_WRONG_PASSPHRASE');
    expect(value(await core.invoke('profile.unlock', { passphrase: NEW_PASSPHRASE })).username).toBe(username);
  });

  it('changes the passphrase, locks now and on a system event, keeps the auto-lock setting', async () => {
    const { relayUrl, open } = await setup();
    const core = await open();
    value(await core.invoke('profile.create', { username: name(), passphrase: PASSPHRASE, relayUrl }));
    expect(code(await core.invoke('profile.changePassphrase', { passphrase: PASSPHRASE, newPassphrase: PASSPHRASE }))).toBe('VAULT_WEAK_PASSPHRASE');
    value(await core.invoke('profile.changePassphrase', { passphrase: PASSPHRASE, newPassphrase: NEW_PASSPHRASE }));

    const locked = new Promise((resolve) => core.on('profile.locked', resolve));
    value(await core.invoke('profile.lock', {}));
    expect(await locked).toEqual({ reason: 'user' });
    expect(code(await core.invoke('contacts.list', {}))).toBe('VAULT_LOCKED');
    expect(code(await core.invoke('profile.unlock', { passphrase: PASSPHRASE }))).toBe('VAULT_WRONG_PASSPHRASE');
    value(await core.invoke('profile.unlock', { passphrase: NEW_PASSPHRASE }));

    expect(value(await core.invoke('settings.get', {})).autoLockMinutes).toBe(15);
    expect(value(await core.invoke('settings.setAutoLock', { minutes: 5 })).autoLockMinutes).toBe(5);
    const system = new Promise((resolve) => core.on('profile.locked', resolve));
    await core.lock('system');
    expect(await system).toEqual({ reason: 'system' });
    value(await core.invoke('profile.unlock', { passphrase: NEW_PASSPHRASE }));
    expect(value(await core.invoke('settings.get', {})).autoLockMinutes).toBe(5);
  });

  it('unlocks automatically through the keychain only once enabled, and never without one', async () => {
    const sodium = await loadSodium();
    const osKey = randomBytes(32);
    let keychainUp = true;
    const keychain: KeychainPort = {
      availability: () => (keychainUp ? { available: true } : { available: false, reason: 'the keyring is locked' }),
      seal: (secret) => {
        const nonce = randomBytes(24);
        return Uint8Array.from([...nonce, ...sodium.crypto_secretbox_easy(secret, nonce, osKey)]);
      },
      open: (sealed) => sodium.crypto_secretbox_open_easy(sealed.slice(24), sealed.slice(0, 24), osKey),
    };
    const { dir, relayUrl, open } = await setup(keychain);
    let core = await open();
    value(await core.invoke('profile.create', { username: name(), passphrase: PASSPHRASE, relayUrl }));
    expect(value(await core.invoke('settings.get', {})).keychain).toEqual({ available: true, enabled: false });
    expect(code(await core.invoke('keychain.enable', { passphrase: 'not the passphrase' }))).toBe('VAULT_WRONG_PASSPHRASE');
    expect(value(await core.invoke('keychain.enable', { passphrase: PASSPHRASE })).keychain.enabled).toBe(true);
    await core.close();

    core = await open();
    expect(value(await core.invoke('profile.status', {}))).toEqual({ state: 'locked', autoUnlock: true });
    value(await core.invoke('profile.unlockAuto', {}));
    value(await core.invoke('keychain.disable', {}));
    await core.close();
    expect((await readFile(path.join(dir, 'vault.json'), 'utf8')).includes('keychain')).toBe(false);

    keychainUp = false;
    core = await open();
    expect(value(await core.invoke('profile.status', {}))).toEqual({ state: 'locked' });
    const refused = await core.invoke('profile.unlockAuto', {});
    expect(code(refused)).toBe('KEYCHAIN_UNAVAILABLE');
    expect(refused.ok ? '' : refused.error.message).toBe('the keyring is locked');
  });
});
