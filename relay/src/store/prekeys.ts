import type { OneTimePrekeyEntry, PqPrekeyEntry } from '../../protocol/index.js';

export interface SignedPrekeyRow {
  readonly keyId: number;
  readonly publicKey: Uint8Array;
  readonly signature: Uint8Array;
}

/** What one FETCH_PREKEYS takes from the store: one-time keys handed out here are gone from it. */
export interface TakenBundle {
  readonly signedPrekey: SignedPrekeyRow;
  readonly pqPrekey: PqPrekeyEntry;
  readonly oneTimePrekey: OneTimePrekeyEntry | undefined;
}

export interface PrekeyCounts {
  readonly oneTime: number;
  readonly pqOneTime: number;
  /** Whether the user has published a signed prekey at all (clients that never do are not nagged). */
  readonly published: boolean;
}

/** The prekey directory: public keys only, published by their owner and handed out to others. */
export interface PrekeyStore {
  setSignedPrekey(username: string, prekey: SignedPrekeyRow, now: number): void;
  /** Add one-time prekeys (ids already present are replaced); false if the stock would exceed `limit`. */
  addOneTimePrekeys(username: string, prekeys: readonly OneTimePrekeyEntry[], limit: number): boolean;
  /** Add ML-KEM prekeys; a last-resort one replaces the previous last-resort key. False beyond `limit` one-time keys. */
  addPqPrekeys(username: string, prekeys: readonly PqPrekeyEntry[], limit: number): boolean;
  /** Atomically take a bundle: the signed prekey, a one-time PQ key (else the last-resort one), a one-time X25519 key if any. */
  takeBundle(username: string): TakenBundle | undefined;
  counts(username: string): PrekeyCounts;
}
