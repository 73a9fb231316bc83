import type { Sodium } from './sodium.js';

/** Subkeys of the master key, each with its own id and 8-byte libsodium KDF context. */
export const SUBKEYS = {
  database: { id: 1, context: 'parleydb' },
} as const;

export type SubkeyName = keyof typeof SUBKEYS;

/** Derive a 32-byte subkey of the master key (BLAKE2b-based crypto_kdf). */
export function deriveSubkey(sodium: Sodium, masterKey: Uint8Array, name: SubkeyName): Uint8Array {
  const { id, context } = SUBKEYS[name];
  return sodium.crypto_kdf_derive_from_key(32, id, context, masterKey);
}
