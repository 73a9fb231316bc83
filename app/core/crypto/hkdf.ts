import { HMAC_SHA256_BYTES, hmacSha256 } from './hmac.js';
import type { Sodium } from './sodium.js';

/** RFC 5869 caps the output at 255 blocks. */
export const HKDF_SHA256_MAX_BYTES = 255 * HMAC_SHA256_BYTES;

/** HKDF-Extract: PRK = HMAC(salt, IKM); an empty salt means HashLen zero bytes. */
export function hkdfExtract(sodium: Sodium, salt: Uint8Array, ikm: Uint8Array): Uint8Array {
  return hmacSha256(sodium, salt.length === 0 ? new Uint8Array(HMAC_SHA256_BYTES) : salt, ikm);
}

/** HKDF-Expand; RangeError beyond 255 * 32 bytes. */
export function hkdfExpand(sodium: Sodium, prk: Uint8Array, info: Uint8Array, length: number): Uint8Array {
  if (!Number.isInteger(length) || length < 0 || length > HKDF_SHA256_MAX_BYTES) throw new RangeError('HKDF output length out of range');
  const out = new Uint8Array(length);
  let previous: Uint8Array = new Uint8Array(0);
  for (let block = 1, at = 0; at < length; block += 1) {
    previous = hmacSha256(sodium, prk, previous, info, Uint8Array.of(block));
    out.set(previous.subarray(0, Math.min(HMAC_SHA256_BYTES, length - at)), at);
    at += HMAC_SHA256_BYTES;
  }
  return out;
}

/** HKDF-SHA256 (RFC 5869), built on libsodium's HMAC-SHA256. */
export function hkdfSha256(sodium: Sodium, ikm: Uint8Array, salt: Uint8Array, info: Uint8Array, length: number): Uint8Array {
  return hkdfExpand(sodium, hkdfExtract(sodium, salt, ikm), info, length);
}

/** HKDF split into fixed-size outputs (e.g. root key and chain key). */
export function hkdfSplit(sodium: Sodium, ikm: Uint8Array, salt: Uint8Array, info: Uint8Array, sizes: readonly number[]): Uint8Array[] {
  const all = hkdfSha256(sodium, ikm, salt, info, sizes.reduce((n, size) => n + size, 0));
  const parts: Uint8Array[] = [];
  let at = 0;
  for (const size of sizes) {
    parts.push(all.slice(at, at + size));
    at += size;
  }
  return parts;
}
