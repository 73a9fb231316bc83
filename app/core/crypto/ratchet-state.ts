import type { X25519KeyPair } from './x25519.js';

/** Signal's recommended bound on message keys skipped in one chain. */
export const MAX_SKIP = 1000;
/** Skipped message keys kept per session at most; the oldest go first. */
export const MAX_SKIPPED_KEYS = 2000;
/** Skipped message keys older than this are dropped (a message that late is treated as lost). */
export const SKIPPED_KEY_TTL_MS = 30 * 24 * 60 * 60 * 1000;

export interface SkippedKey {
  /** The sender's ratchet public key of the chain, hex. */
  readonly dh: string;
  readonly n: number;
  readonly mk: Uint8Array;
  readonly storedAt: number;
}

/**
 * Double Ratchet session state: plain versioned data. Transitions in ratchet.ts return a new
 * state and never mutate this one, so a failed decrypt leaves it exactly as it was.
 */
export interface RatchetState {
  readonly v: 1;
  /** Associated data from the handshake (both identities), bound into every message. */
  readonly ad: Uint8Array;
  readonly dhs: X25519KeyPair;
  readonly dhr: Uint8Array | null;
  readonly rk: Uint8Array;
  readonly cks: Uint8Array | null;
  readonly ckr: Uint8Array | null;
  readonly ns: number;
  readonly nr: number;
  readonly pn: number;
  readonly skipped: readonly SkippedKey[];
}
