import { ParleyError } from '../../shared/errors.js';
import { utf8 } from '../crypto/bytes.js';
import { randomBytes } from '../crypto/random.js';
import type { Sodium } from '../crypto/sodium.js';
import type { VaultFile } from './format.js';

export const MASTER_KEY_BYTES = 32;

/** Argon2id cost; interactive limits take about a quarter of a second on a laptop. */
export interface KdfCost {
  opslimit: number;
  memlimit: number;
}

export function interactiveCost(sodium: Sodium): KdfCost {
  return { opslimit: sodium.crypto_pwhash_OPSLIMIT_INTERACTIVE, memlimit: sodium.crypto_pwhash_MEMLIMIT_INTERACTIVE };
}

const b64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64');
const unb64 = (text: string): Uint8Array => Uint8Array.from(Buffer.from(text, 'base64'));

/** The associated data binds the wrap to its KDF parameters, so editing them fails the MAC. */
function associatedData(vault: Pick<VaultFile, 'version' | 'kdf'>): Uint8Array {
  const { alg, opslimit, memlimit, salt } = vault.kdf;
  return utf8.encode(`parley-vault-v${vault.version}|${alg}|${opslimit}|${memlimit}|${salt}`);
}

function passphraseKey(sodium: Sodium, passphrase: string, kdf: VaultFile['kdf']): Uint8Array {
  const salt = unb64(kdf.salt);
  if (salt.length !== sodium.crypto_pwhash_SALTBYTES) throw new ParleyError('VAULT_CORRUPT', 'The vault file is not a Parley vault');
  return sodium.crypto_pwhash(
    sodium.crypto_aead_xchacha20poly1305_ietf_KEYBYTES,
    passphrase,
    salt,
    kdf.opslimit,
    kdf.memlimit,
    sodium.crypto_pwhash_ALG_ARGON2ID13,
  );
}

/** Make a fresh random master key and wrap it under the passphrase. */
export function createVault(sodium: Sodium, passphrase: string, cost: KdfCost = interactiveCost(sodium)): { vault: VaultFile; masterKey: Uint8Array } {
  const masterKey = randomBytes(MASTER_KEY_BYTES);
  const kdf: VaultFile['kdf'] = { alg: 'argon2id13', ...cost, salt: b64(randomBytes(sodium.crypto_pwhash_SALTBYTES)) };
  const header = { version: 1 as const, kdf };
  const key = passphraseKey(sodium, passphrase, kdf);
  const nonce = randomBytes(sodium.crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
  const ciphertext = sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(masterKey, associatedData(header), null, nonce, key);
  sodium.memzero(key);
  return {
    vault: { format: 'parley-vault', ...header, wrap: { alg: 'xchacha20poly1305-ietf', nonce: b64(nonce), ciphertext: b64(ciphertext) } },
    masterKey,
  };
}

/** Unwrap the master key; VAULT_WRONG_PASSPHRASE when the passphrase (or the file) does not match. */
export function unlockVault(sodium: Sodium, vault: VaultFile, passphrase: string): Uint8Array {
  const nonce = unb64(vault.wrap.nonce);
  if (nonce.length !== sodium.crypto_aead_xchacha20poly1305_ietf_NPUBBYTES) throw new ParleyError('VAULT_CORRUPT', 'The vault file is not a Parley vault');
  const key = passphraseKey(sodium, passphrase, vault.kdf);
  try {
    const masterKey = sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(null, unb64(vault.wrap.ciphertext), associatedData(vault), nonce, key);
    if (masterKey.length !== MASTER_KEY_BYTES) throw new ParleyError('VAULT_CORRUPT', 'The vault file is not a Parley vault');
    return masterKey;
  } catch (error) {
    if (error instanceof ParleyError) throw error;
    throw new ParleyError('VAULT_WRONG_PASSPHRASE', 'The passphrase is not correct');
  } finally {
    sodium.memzero(key);
  }
}
