import type { KdfCost } from './vault.js';

/**
 * Argon2id cost of new passphrase wraps: 3 passes over 128 MiB. Measured on the 2-core build machine at
 * 0.34 s (libsodium wasm), leaving room under the 1 s unlock target on slower laptops; twice the memory of
 * libsodium's INTERACTIVE preset makes each guess of an offline attacker dearer. Stored beside each wrap.
 */
export const PASSPHRASE_COST: KdfCost = { opslimit: 3, memlimit: 128 * 1024 * 1024 };
