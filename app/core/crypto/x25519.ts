import { randomBytes } from './random.js';
import type { Sodium } from './sodium.js';

export const X25519_BYTES = 32;

export interface X25519KeyPair {
  publicKey: Uint8Array;
  secretKey: Uint8Array;
}

export function x25519Generate(sodium: Sodium): X25519KeyPair {
  const secretKey = randomBytes(X25519_BYTES);
  return { publicKey: sodium.crypto_scalarmult_base(secretKey), secretKey };
}

export function x25519PublicKey(sodium: Sodium, secretKey: Uint8Array): Uint8Array {
  return sodium.crypto_scalarmult_base(secretKey);
}

/**
 * X25519 (RFC 7748). Returns undefined for inputs of the wrong size and for an all-zero shared
 * secret (a low-order public key), which libsodium refuses and Parley treats as a forged key.
 */
export function x25519(sodium: Sodium, secretKey: Uint8Array, publicKey: Uint8Array): Uint8Array | undefined {
  if (secretKey.length !== X25519_BYTES || publicKey.length !== X25519_BYTES) return undefined;
  try {
    return sodium.crypto_scalarmult(secretKey, publicKey);
  } catch {
    return undefined;
  }
}
