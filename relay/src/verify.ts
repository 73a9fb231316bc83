import { createPublicKey, verify } from 'node:crypto';
import { KEY_BYTES, SIGNATURE_BYTES } from '../protocol/index.js';

/** Check an Ed25519 signature. Any malformed input is a failed verification, never a throw. */
export function verifyEd25519(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  if (publicKey.length !== KEY_BYTES || signature.length !== SIGNATURE_BYTES) return false;
  try {
    // A raw key imports fastest as a JWK; node:crypto has no raw-key import for Ed25519.
    const key = createPublicKey({
      key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(publicKey).toString('base64url') },
      format: 'jwk',
    });
    return verify(null, message, key, signature);
  } catch {
    return false;
  }
}

/** Byte equality for public values (keys); no secret is compared here, so timing does not matter. */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.compare(a, b) === 0;
}
