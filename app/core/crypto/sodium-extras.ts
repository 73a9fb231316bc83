import type { Sodium } from './sodium.js';

/** Opaque handle to a libsodium multi-part state living in wasm memory. */
export interface HmacState {
  readonly name: string;
}

/** libsodium 1.0.22 functions the published type definitions do not declare yet. */
export interface SodiumExtras {
  crypto_auth_hmacsha256_init(key: Uint8Array | null): HmacState;
  crypto_auth_hmacsha256_update(state: HmacState, message: Uint8Array): void;
  crypto_auth_hmacsha256_final(state: HmacState): Uint8Array;
  crypto_kem_mlkem768_keypair(): { publicKey: Uint8Array; privateKey: Uint8Array };
  crypto_kem_mlkem768_seed_keypair(seed: Uint8Array): { publicKey: Uint8Array; privateKey: Uint8Array };
  crypto_kem_mlkem768_enc(publicKey: Uint8Array): { ciphertext: Uint8Array; sharedSecret: Uint8Array };
  crypto_kem_mlkem768_enc_deterministic(publicKey: Uint8Array, seed: Uint8Array): { ciphertext: Uint8Array; sharedSecret: Uint8Array };
  crypto_kem_mlkem768_dec(ciphertext: Uint8Array, privateKey: Uint8Array): Uint8Array;
}

/** The same handle, seen with the functions above; they exist at runtime in the sumo build. */
export function withExtras(sodium: Sodium): Sodium & SodiumExtras {
  return sodium as Sodium & Partial<SodiumExtras> as Sodium & SodiumExtras;
}
