import { ParleyError, type ErrorCode } from '../../shared/errors.js';
import { utf8 } from '../crypto/bytes.js';
import { randomBytes } from '../crypto/random.js';
import type { Sodium } from '../crypto/sodium.js';
import { PASSPHRASE_COST } from './cost.js';
import type { AnyVaultFile, VaultFileV2 } from './format.js';
import type { KeychainPort } from './keychain.js';
import { generateRecoveryKey, parseRecoveryKey } from './recovery-key.js';
import { MASTER_KEY_BYTES, unlockVault, type KdfCost } from './vault.js';

type Sealed = VaultFileV2['passphrase']['wrap'];
type WrapKind = 'passphrase' | 'recovery' | 'keychain';

const b64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64');
const unb64 = (text: string): Uint8Array => Uint8Array.from(Buffer.from(text, 'base64'));
const corrupt = (): ParleyError => new ParleyError('VAULT_CORRUPT', 'The vault file is not a Parley vault');

/** Associated data binds each wrap to its kind and KDF parameters: editing either fails the MAC. */
function associatedData(kind: WrapKind, kdf: object): Uint8Array {
  return utf8.encode(`parley-vault-v2|${kind}|${JSON.stringify(kdf)}`);
}

function seal(sodium: Sodium, masterKey: Uint8Array, kek: Uint8Array, ad: Uint8Array): Sealed {
  const nonce = randomBytes(sodium.crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
  const ciphertext = sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(masterKey, ad, null, nonce, kek);
  sodium.memzero(kek);
  return { alg: 'xchacha20poly1305-ietf', nonce: b64(nonce), ciphertext: b64(ciphertext) };
}

function unseal(sodium: Sodium, sealed: Sealed, kek: Uint8Array, ad: Uint8Array, wrong: { code: ErrorCode; message: string }): Uint8Array {
  const nonce = unb64(sealed.nonce);
  if (nonce.length !== sodium.crypto_aead_xchacha20poly1305_ietf_NPUBBYTES) throw corrupt();
  let masterKey: Uint8Array;
  try {
    masterKey = sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(null, unb64(sealed.ciphertext), ad, nonce, kek);
  } catch {
    throw new ParleyError(wrong.code, wrong.message);
  } finally {
    sodium.memzero(kek);
  }
  if (masterKey.length !== MASTER_KEY_BYTES) throw corrupt();
  return masterKey;
}

function argon2id(sodium: Sodium, passphrase: string, kdf: VaultFileV2['passphrase']['kdf']): Uint8Array {
  const salt = unb64(kdf.salt);
  if (salt.length !== sodium.crypto_pwhash_SALTBYTES) throw corrupt();
  return sodium.crypto_pwhash(32, passphrase, salt, kdf.opslimit, kdf.memlimit, sodium.crypto_pwhash_ALG_ARGON2ID13);
}

function recoveryKek(sodium: Sodium, recoveryKey: Uint8Array, salt: string): Uint8Array {
  const saltBytes = unb64(salt);
  if (saltBytes.length !== 16) throw corrupt();
  return sodium.crypto_generichash(32, recoveryKey, saltBytes);
}

/** A fresh passphrase wrap of the master key with new salt and the current cost. */
export function passphraseWrap(sodium: Sodium, masterKey: Uint8Array, passphrase: string, cost: KdfCost = PASSPHRASE_COST): VaultFileV2['passphrase'] {
  const kdf = { alg: 'argon2id13' as const, ...cost, salt: b64(randomBytes(sodium.crypto_pwhash_SALTBYTES)) };
  return { kdf, wrap: seal(sodium, masterKey, argon2id(sodium, passphrase, kdf), associatedData('passphrase', kdf)) };
}

export function recoveryWrap(sodium: Sodium, masterKey: Uint8Array, recoveryKey: Uint8Array): NonNullable<VaultFileV2['recovery']> {
  const kdf = { alg: 'blake2b-keyed' as const, salt: b64(randomBytes(16)) };
  return { kdf, wrap: seal(sodium, masterKey, recoveryKek(sodium, recoveryKey, kdf.salt), associatedData('recovery', kdf)) };
}

/** The keychain wrap: a random key-encryption key sealed by the OS, and the master key under it. */
export function keychainWrap(sodium: Sodium, masterKey: Uint8Array, keychain: KeychainPort): NonNullable<VaultFileV2['keychain']> {
  const kek = randomBytes(32);
  const kdf = { alg: 'os-keychain' as const, sealedKey: b64(keychain.seal(kek)) };
  return { kdf, wrap: seal(sodium, masterKey, kek, associatedData('keychain', kdf)) };
}

export interface NewVault {
  vault: VaultFileV2;
  masterKey: Uint8Array;
  /** raw bytes of the recovery key; shown once (formatRecoveryKey), never stored */
  recoveryKey: Uint8Array;
}

/** A new random master key, wrapped by the passphrase and by a new recovery key. */
export function createKeyring(sodium: Sodium, passphrase: string, cost: KdfCost = PASSPHRASE_COST): NewVault {
  const masterKey = randomBytes(MASTER_KEY_BYTES);
  const recoveryKey = generateRecoveryKey();
  const vault: VaultFileV2 = {
    format: 'parley-vault',
    version: 2,
    passphrase: passphraseWrap(sodium, masterKey, passphrase, cost),
    recovery: recoveryWrap(sodium, masterKey, recoveryKey),
  };
  return { vault, masterKey, recoveryKey };
}

const WRONG_PASSPHRASE = { code: 'VAULT_WRONG_PASSPHRASE', message: 'The passphrase is not correct' } as const;
const WRONG_RECOVERY_KEY = { code: 'VAULT_WRONG_RECOVERY_KEY', message: 'That recovery key does not open this profile' } as const;

/** Unwrap with the passphrase; works for version 1 vaults too. */
export function openWithPassphrase(sodium: Sodium, vault: AnyVaultFile, passphrase: string): Uint8Array {
  if (vault.version === 1) return unlockVault(sodium, vault, passphrase);
  const { kdf, wrap } = vault.passphrase;
  return unseal(sodium, wrap, argon2id(sodium, passphrase, kdf), associatedData('passphrase', kdf), WRONG_PASSPHRASE);
}

/** Unwrap with the recovery key as typed; VAULT_WRONG_RECOVERY_KEY when it is malformed or not this vault's. */
export function openWithRecoveryKey(sodium: Sodium, vault: AnyVaultFile, typed: string): Uint8Array {
  const recoveryKey = parseRecoveryKey(typed);
  if (vault.version === 1 || vault.recovery === undefined) {
    throw new ParleyError('VAULT_NO_RECOVERY_KEY', 'This profile was created without a recovery key');
  }
  const { kdf, wrap } = vault.recovery;
  return unseal(sodium, wrap, recoveryKek(sodium, recoveryKey, kdf.salt), associatedData('recovery', kdf), WRONG_RECOVERY_KEY);
}

export function openWithKeychain(sodium: Sodium, vault: AnyVaultFile, keychain: KeychainPort): Uint8Array {
  if (vault.version === 1 || vault.keychain === undefined) throw new ParleyError('KEYCHAIN_NOT_ENABLED', 'Automatic unlock is not turned on for this profile');
  const { kdf, wrap } = vault.keychain;
  const kek = keychain.open(unb64(kdf.sealedKey));
  if (kek.length !== 32) throw corrupt();
  return unseal(sodium, wrap, kek, associatedData('keychain', kdf), { code: 'KEYCHAIN_UNAVAILABLE', message: 'The keychain entry does not open this profile' });
}

/** Version 1 vaults become version 2 on the next unlock: same master key, current Argon2id cost, no recovery wrap yet. */
export function upgradeVault(sodium: Sodium, vault: AnyVaultFile, masterKey: Uint8Array, passphrase: string): VaultFileV2 {
  if (vault.version === 2) return vault;
  return { format: 'parley-vault', version: 2, passphrase: passphraseWrap(sodium, masterKey, passphrase) };
}
