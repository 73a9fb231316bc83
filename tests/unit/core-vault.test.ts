import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadSodium, type Sodium } from '../../app/core/crypto/sodium.js';
import { parseVault } from '../../app/core/vault/format.js';
import { createVault, unlockVault } from '../../app/core/vault/vault.js';
import { readVaultFile, writeVaultFile } from '../../app/core/vault/vault-file.js';
import { openWithPassphrase } from '../../app/core/vault/keyring.js';
import { openCore } from '../../app/core/index.js';
import { codeOf } from '../support/error-code.js';

let sodium: Sodium;
let dir: string;

beforeAll(async () => {
  sodium = await loadSodium();
});
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'parley-vault-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('vault', () => {
  it('unwraps the master key with the right passphrase', () => {
    const { vault, masterKey } = createVault(sodium, 'correct horse battery');
    expect(masterKey).toHaveLength(32);
    expect(unlockVault(sodium, vault, 'correct horse battery')).toEqual(masterKey);
  });

  it('records Argon2id parameters and salt beside the wrap', () => {
    const { vault } = createVault(sodium, 'correct horse battery');
    expect(vault.kdf).toMatchObject({
      alg: 'argon2id13',
      opslimit: sodium.crypto_pwhash_OPSLIMIT_INTERACTIVE,
      memlimit: sodium.crypto_pwhash_MEMLIMIT_INTERACTIVE,
    });
    expect(Buffer.from(vault.kdf.salt, 'base64')).toHaveLength(sodium.crypto_pwhash_SALTBYTES);
  });

  it('refuses a wrong passphrase with VAULT_WRONG_PASSPHRASE and leaves the file unchanged', async () => {
    const file = path.join(dir, 'vault.json');
    await writeVaultFile(file, createVault(sodium, 'correct horse battery').vault);
    const before = await readFile(file);
    const vault = await readVaultFile(file);
    expect(vault).toBeDefined();
    if (vault === undefined) return;
    expect(codeOf(() => openWithPassphrase(sodium, vault, 'wrong horse battery'))).toBe('VAULT_WRONG_PASSPHRASE');
    expect(await readFile(file)).toEqual(before);
  });

  it('binds the KDF parameters to the wrap: edited parameters do not unlock', () => {
    const { vault } = createVault(sodium, 'correct horse battery');
    const edited = { ...vault, kdf: { ...vault.kdf, opslimit: vault.kdf.opslimit + 1 } };
    expect(codeOf(() => unlockVault(sodium, edited, 'correct horse battery'))).toBe('VAULT_WRONG_PASSPHRASE');
  });

  it('calls a file that is not a vault VAULT_CORRUPT', () => {
    const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
    expect(codeOf(() => parseVault(bytes('not json')))).toBe('VAULT_CORRUPT');
    expect(codeOf(() => parseVault(bytes('{"format":"something-else","version":1}')))).toBe('VAULT_CORRUPT');
    expect(codeOf(() => parseVault(Uint8Array.of(0xff, 0xfe, 0x00)))).toBe('VAULT_CORRUPT');
  });

  it('writes atomically and leaves no temporary file or passphrase behind', async () => {
    const file = path.join(dir, 'vault.json');
    await writeVaultFile(file, createVault(sodium, 'canary-passphrase-5f1e').vault);
    await writeVaultFile(file, createVault(sodium, 'canary-passphrase-5f1e').vault);
    expect(await readdir(dir)).toEqual(['vault.json']);
    expect((await readFile(file)).includes('canary-passphrase-5f1e')).toBe(false);
  });

  it('reports a missing vault file as no vault', async () => {
    expect(await readVaultFile(path.join(dir, 'vault.json'))).toBeUndefined();
  });
});

describe('profile methods without a relay', () => {
  it('reports none, VAULT_NO_PROFILE and VAULT_LOCKED before a profile exists', async () => {
    const core = await openCore({ profileDir: dir, defaultRelayUrl: 'ws://127.0.0.1:9' });
    try {
      expect(await core.invoke('profile.status', {})).toEqual({ ok: true, value: { state: 'none', relayUrl: 'ws://127.0.0.1:9' } });
      const unlock = await core.invoke('profile.unlock', { passphrase: 'whatever passphrase' });
      expect(unlock.ok ? undefined : unlock.error.code).toBe('VAULT_NO_PROFILE');
      const contacts = await core.invoke('contacts.list', {});
      expect(contacts.ok ? undefined : contacts.error.code).toBe('VAULT_LOCKED');
      const send = await core.invoke('messages.send', { contact: 'someone', text: 'hi' });
      expect(send.ok ? undefined : send.error.code).toBe('VAULT_LOCKED');
      expect(await core.invoke('connection.status', {})).toEqual({ ok: true, value: { state: 'offline' } });
    } finally {
      await core.close();
    }
  });

  it('validates method names and input itself', async () => {
    const core = await openCore({ profileDir: dir });
    try {
      const unknown = await core.invoke('profile.delete' as 'profile.status', {});
      expect(unknown.ok ? undefined : unknown.error.code).toBe('IPC_UNKNOWN_METHOD');
      const bad = await core.invoke('profile.create', { username: 'A!', passphrase: 'x', relayUrl: 'http://x' });
      expect(bad.ok ? undefined : bad.error.code).toBe('VALIDATION_FAILED');
    } finally {
      await core.close();
    }
  });

  it('calls a vault file that is not ours VAULT_CORRUPT on unlock', async () => {
    await writeFile(path.join(dir, 'vault.json'), '{"hello":"world"}');
    const core = await openCore({ profileDir: dir });
    try {
      expect(await core.invoke('profile.status', {})).toEqual({ ok: true, value: { state: 'locked' } });
      const unlock = await core.invoke('profile.unlock', { passphrase: 'whatever passphrase' });
      expect(unlock.ok ? undefined : unlock.error.code).toBe('VAULT_CORRUPT');
    } finally {
      await core.close();
    }
  });
});
