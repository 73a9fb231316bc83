import { beforeAll, describe, expect, it } from 'vitest';
import { MIN_PASSPHRASE_SCORE, ratePassphrase } from '../../app/shared/strength.js';
import { loadSodium, type Sodium } from '../../app/core/crypto/sodium.js';
import { parseVault, serializeVault } from '../../app/core/vault/format.js';
import { PASSPHRASE_COST } from '../../app/core/vault/cost.js';
import { createKeyring, keychainWrap, openWithKeychain, openWithPassphrase, openWithRecoveryKey, passphraseWrap, upgradeVault } from '../../app/core/vault/keyring.js';
import type { KeychainPort } from '../../app/core/vault/keychain.js';
import { formatRecoveryKey, parseRecoveryKey, RECOVERY_KEY_BYTES } from '../../app/core/vault/recovery-key.js';
import { createVault } from '../../app/core/vault/vault.js';
import { randomBytes } from '../../app/core/crypto/random.js';
import { codeOf } from '../support/error-code.js';

let sodium: Sodium;
beforeAll(async () => {
  sodium = await loadSodium();
});

const PASS = 'correct horse battery';
const FAST = { opslimit: 1, memlimit: 8 * 1024 * 1024 };

/** A keychain that seals with a key of its own, as the OS would; `broken` makes it refuse. */
function fakeKeychain(): KeychainPort & { broken: boolean } {
  const key = randomBytes(32);
  return {
    broken: false,
    availability() {
      return this.broken ? { available: false, reason: 'no keychain' } : { available: true };
    },
    seal(secret) {
      const nonce = randomBytes(24);
      return Uint8Array.from([...nonce, ...sodium.crypto_secretbox_easy(secret, nonce, key)]);
    },
    open(sealed) {
      return sodium.crypto_secretbox_open_easy(sealed.slice(24), sealed.slice(0, 24), key);
    },
  };
}

describe('recovery key text', () => {
  it('shows 160 bits as eight groups of four and reads them back however they are typed', () => {
    const key = randomBytes(RECOVERY_KEY_BYTES);
    const text = formatRecoveryKey(key);
    expect(text).toMatch(/^[0-9A-Z]{4}(-[0-9A-Z]{4}){7}$/);
    expect(parseRecoveryKey(text)).toEqual(key);
    expect(parseRecoveryKey(` ${text.toLowerCase().replace(/-/g, ' ')} `)).toEqual(key);
  });

  it('refuses a key of the wrong length or with foreign characters', () => {
    expect(codeOf(() => parseRecoveryKey('ABCD-EFGH'))).toBe('VAULT_WRONG_RECOVERY_KEY');
    expect(codeOf(() => parseRecoveryKey('UUUU-UUUU-UUUU-UUUU-UUUU-UUUU-UUUU-UUUU'))).toBe('VAULT_WRONG_RECOVERY_KEY');
  });
});

describe('vault version 2', () => {
  it('opens with the passphrase and with the recovery key, and with nothing else', () => {
    const { vault, masterKey, recoveryKey } = createKeyring(sodium, PASS, FAST);
    const text = formatRecoveryKey(recoveryKey);
    expect(openWithPassphrase(sodium, vault, PASS)).toEqual(masterKey);
    expect(openWithRecoveryKey(sodium, vault, text)).toEqual(masterKey);
    expect(codeOf(() => openWithPassphrase(sodium, vault, 'wrong horse battery'))).toBe('VAULT_WRONG_PASSPHRASE');
    expect(codeOf(() => openWithRecoveryKey(sodium, vault, formatRecoveryKey(randomBytes(RECOVERY_KEY_BYTES))))).toBe('VAULT_WRONG_RECOVERY_KEY');
  });

  it('stores the Argon2id cost with the wrap and survives a round trip through the file format', () => {
    const { vault, masterKey } = createKeyring(sodium, PASS, FAST);
    expect(vault.passphrase.kdf).toMatchObject({ alg: 'argon2id13', ...FAST });
    const reread = parseVault(new TextEncoder().encode(serializeVault(vault)));
    expect(openWithPassphrase(sodium, reread, PASS)).toEqual(masterKey);
  });

  it('uses the measured default cost for new passphrase wraps', () => {
    const wrap = passphraseWrap(sodium, randomBytes(32), PASS);
    expect(wrap.kdf).toMatchObject(PASSPHRASE_COST);
  });

  it('binds each wrap to its parameters: an edited cost or salt does not open', () => {
    const { vault } = createKeyring(sodium, PASS, FAST);
    const edited = { ...vault, passphrase: { ...vault.passphrase, kdf: { ...vault.passphrase.kdf, opslimit: 2 } } };
    expect(codeOf(() => openWithPassphrase(sodium, edited, PASS))).toBe('VAULT_WRONG_PASSPHRASE');
  });

  it('a replaced passphrase wrap retires the old passphrase', () => {
    const { vault, masterKey } = createKeyring(sodium, PASS, FAST);
    const changed = { ...vault, passphrase: passphraseWrap(sodium, masterKey, 'a whole new passphrase here', FAST) };
    expect(codeOf(() => openWithPassphrase(sodium, changed, PASS))).toBe('VAULT_WRONG_PASSPHRASE');
    expect(openWithPassphrase(sodium, changed, 'a whole new passphrase here')).toEqual(masterKey);
  });

  it('opens a version 1 vault and upgrades it without a recovery wrap', () => {
    const { vault, masterKey } = createVault(sodium, PASS, FAST);
    expect(openWithPassphrase(sodium, vault, PASS)).toEqual(masterKey);
    const upgraded = upgradeVault(sodium, vault, masterKey, PASS);
    expect(upgraded.version).toBe(2);
    expect(openWithPassphrase(sodium, upgraded, PASS)).toEqual(masterKey);
    expect(codeOf(() => openWithRecoveryKey(sodium, vault, formatRecoveryKey(randomBytes(RECOVERY_KEY_BYTES))))).toBe('VAULT_NO_RECOVERY_KEY');
  });

  it('a keychain wrap opens through the keychain only', () => {
    const keychain = fakeKeychain();
    const { vault, masterKey } = createKeyring(sodium, PASS, FAST);
    expect(codeOf(() => openWithKeychain(sodium, vault, keychain))).toBe('KEYCHAIN_NOT_ENABLED');
    const withKeychain = { ...vault, keychain: keychainWrap(sodium, masterKey, keychain) };
    expect(openWithKeychain(sodium, withKeychain, keychain)).toEqual(masterKey);
    // Another computer's keychain cannot open it.
    expect(codeOf(() => openWithKeychain(sodium, withKeychain, fakeKeychain()))).not.toBeUndefined();
  });
});

describe('passphrase strength', () => {
  it('refuses common and personal passphrases and says why', () => {
    const weak = ratePassphrase('password1');
    expect(weak.acceptable).toBe(false);
    expect(weak.warning).not.toBe('');
    expect(ratePassphrase('alice2024', ['alice']).acceptable).toBe(false);
  });

  it(`accepts passphrases that reach score ${MIN_PASSPHRASE_SCORE}`, () => {
    const strong = ratePassphrase('purple cabbage eats my violin');
    expect(strong.score).toBeGreaterThanOrEqual(MIN_PASSPHRASE_SCORE);
    expect(strong.acceptable).toBe(true);
  });
});
