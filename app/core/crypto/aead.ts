import type { Sodium } from './sodium.js';

export const AEAD_KEY_BYTES = 32;
export const AEAD_TAG_BYTES = 16;
export const XCHACHA_NONCE_BYTES = 24;
export const CHACHA_IETF_NONCE_BYTES = 12;

/** XChaCha20-Poly1305 (IETF); ciphertext = encrypted message || 16-byte tag. */
export function xchachaEncrypt(sodium: Sodium, key: Uint8Array, nonce: Uint8Array, message: Uint8Array, ad: Uint8Array): Uint8Array {
  return sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(message, ad, null, nonce, key);
}

/** The plaintext, or undefined when the key, nonce, data or tag do not fit. */
export function xchachaDecrypt(sodium: Sodium, key: Uint8Array, nonce: Uint8Array, ciphertext: Uint8Array, ad: Uint8Array): Uint8Array | undefined {
  if (key.length !== AEAD_KEY_BYTES || nonce.length !== XCHACHA_NONCE_BYTES || ciphertext.length < AEAD_TAG_BYTES) return undefined;
  try {
    return sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(null, ciphertext, ad, nonce, key);
  } catch {
    return undefined;
  }
}

/** ChaCha20-Poly1305 IETF (RFC 8439, 96-bit nonce). */
export function chachaIetfEncrypt(sodium: Sodium, key: Uint8Array, nonce: Uint8Array, message: Uint8Array, ad: Uint8Array): Uint8Array {
  return sodium.crypto_aead_chacha20poly1305_ietf_encrypt(message, ad, null, nonce, key);
}

export function chachaIetfDecrypt(sodium: Sodium, key: Uint8Array, nonce: Uint8Array, ciphertext: Uint8Array, ad: Uint8Array): Uint8Array | undefined {
  if (key.length !== AEAD_KEY_BYTES || nonce.length !== CHACHA_IETF_NONCE_BYTES || ciphertext.length < AEAD_TAG_BYTES) return undefined;
  try {
    return sodium.crypto_aead_chacha20poly1305_ietf_decrypt(null, ciphertext, ad, nonce, key);
  } catch {
    return undefined;
  }
}
