import { withExtras } from './sodium-extras.js';
import type { Sodium } from './sodium.js';

export const MLKEM768_PUBLIC_BYTES = 1184;
export const MLKEM768_SECRET_BYTES = 2400;
export const MLKEM768_CIPHERTEXT_BYTES = 1088;
export const MLKEM768_SHARED_BYTES = 32;
export const MLKEM768_SEED_BYTES = 64;
export const MLKEM768_ENC_SEED_BYTES = 32;

const Q = 3329;
/** k * 384 bytes of 12-bit coefficients precede the 32-byte rho in an encapsulation key. */
const POLY_VECTOR_BYTES = 3 * 384;

export interface MlKemKeyPair {
  publicKey: Uint8Array;
  secretKey: Uint8Array;
}

export interface MlKemEncapsulation {
  ciphertext: Uint8Array;
  sharedSecret: Uint8Array;
}

/** FIPS 203 section 7.2 input checks: the size, and every coefficient below q (ByteEncode(ByteDecode(ek)) = ek). */
export function mlkemPublicKeyIsValid(publicKey: Uint8Array): boolean {
  if (publicKey.length !== MLKEM768_PUBLIC_BYTES) return false;
  for (let at = 0; at < POLY_VECTOR_BYTES; at += 3) {
    const b0 = publicKey[at] ?? 0;
    const b1 = publicKey[at + 1] ?? 0;
    const b2 = publicKey[at + 2] ?? 0;
    if ((b0 | ((b1 & 0x0f) << 8)) >= Q || ((b1 >> 4) | (b2 << 4)) >= Q) return false;
  }
  return true;
}

export function mlkemGenerate(sodium: Sodium): MlKemKeyPair {
  const pair = withExtras(sodium).crypto_kem_mlkem768_keypair();
  return { publicKey: pair.publicKey, secretKey: pair.privateKey };
}

/** Key generation from a 64-byte seed (d || z); undefined for a seed of another size. */
export function mlkemFromSeed(sodium: Sodium, seed: Uint8Array): MlKemKeyPair | undefined {
  if (seed.length !== MLKEM768_SEED_BYTES) return undefined;
  const pair = withExtras(sodium).crypto_kem_mlkem768_seed_keypair(seed);
  return { publicKey: pair.publicKey, secretKey: pair.privateKey };
}

/** Encapsulate to a public key; undefined when the key fails the FIPS 203 input checks. */
export function mlkemEncapsulate(sodium: Sodium, publicKey: Uint8Array): MlKemEncapsulation | undefined {
  if (!mlkemPublicKeyIsValid(publicKey)) return undefined;
  return withExtras(sodium).crypto_kem_mlkem768_enc(publicKey);
}

/** Deterministic encapsulation with the 32-byte message m (known-answer tests only). */
export function mlkemEncapsulateDeterministic(sodium: Sodium, publicKey: Uint8Array, m: Uint8Array): MlKemEncapsulation | undefined {
  if (!mlkemPublicKeyIsValid(publicKey) || m.length !== MLKEM768_ENC_SEED_BYTES) return undefined;
  return withExtras(sodium).crypto_kem_mlkem768_enc_deterministic(publicKey, m);
}

/** Decapsulate (implicit rejection: a wrong ciphertext of the right size yields a pseudorandom secret). */
export function mlkemDecapsulate(sodium: Sodium, secretKey: Uint8Array, ciphertext: Uint8Array): Uint8Array | undefined {
  if (secretKey.length !== MLKEM768_SECRET_BYTES || ciphertext.length !== MLKEM768_CIPHERTEXT_BYTES) return undefined;
  try {
    return withExtras(sodium).crypto_kem_mlkem768_dec(ciphertext, secretKey);
  } catch {
    return undefined;
  }
}
