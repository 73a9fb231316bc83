import { utf8 } from './bytes.js';
import { hkdfSplit } from './hkdf.js';
import { hmacSha256 } from './hmac.js';
import type { Sodium } from './sodium.js';

const ROOT_INFO = utf8.encode('Parley_DoubleRatchet_Root');
const MESSAGE_INFO = utf8.encode('Parley_DoubleRatchet_MessageKeys');
const MESSAGE_KEY_CONSTANT = Uint8Array.of(0x01);
const CHAIN_KEY_CONSTANT = Uint8Array.of(0x02);
const ZERO_SALT = new Uint8Array(32);

/** KDF_RK: HKDF with the root key as salt over the DH output -> (new root key, chain key). */
export function kdfRk(sodium: Sodium, rk: Uint8Array, dhOut: Uint8Array): { rk: Uint8Array; ck: Uint8Array } {
  const [nextRk, ck] = hkdfSplit(sodium, dhOut, rk, ROOT_INFO, [32, 32]) as [Uint8Array, Uint8Array];
  return { rk: nextRk, ck };
}

/** KDF_CK: HMAC-SHA256 keyed by the chain key, 0x01 -> message key, 0x02 -> next chain key. */
export function kdfCk(sodium: Sodium, ck: Uint8Array): { ck: Uint8Array; mk: Uint8Array } {
  return { ck: hmacSha256(sodium, ck, CHAIN_KEY_CONSTANT), mk: hmacSha256(sodium, ck, MESSAGE_KEY_CONSTANT) };
}

/** The AEAD key and nonce of one message key (unique per message, so a derived nonce is safe). */
export function messageKeys(sodium: Sodium, mk: Uint8Array): { key: Uint8Array; nonce: Uint8Array } {
  const [key, nonce] = hkdfSplit(sodium, mk, ZERO_SALT, MESSAGE_INFO, [32, 24]) as [Uint8Array, Uint8Array];
  return { key, nonce };
}
