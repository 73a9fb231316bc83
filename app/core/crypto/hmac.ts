import { withExtras } from './sodium-extras.js';
import type { Sodium } from './sodium.js';

export const HMAC_SHA256_BYTES = 32;

/** HMAC-SHA256 with a key of any length over the concatenation of `parts`. */
export function hmacSha256(sodium: Sodium, key: Uint8Array, ...parts: readonly Uint8Array[]): Uint8Array {
  const extras = withExtras(sodium);
  const state = extras.crypto_auth_hmacsha256_init(key);
  for (const part of parts) extras.crypto_auth_hmacsha256_update(state, part);
  return extras.crypto_auth_hmacsha256_final(state);
}

/** Check a (possibly truncated, at least 16-byte) tag in constant time. */
export function hmacSha256Verify(sodium: Sodium, key: Uint8Array, message: Uint8Array, tag: Uint8Array): boolean {
  if (tag.length < 16 || tag.length > HMAC_SHA256_BYTES) return false;
  const expected = hmacSha256(sodium, key, message).subarray(0, tag.length);
  return sodium.memcmp(expected, tag);
}
