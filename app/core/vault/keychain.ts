/**
 * The operating system's secret store, as the core sees it. The Electron host implements it with
 * safeStorage; other hosts have none. The core never falls back to storing a key in plaintext.
 */
export interface KeychainPort {
  /** Whether sealing is available and safe here; when not, a sentence that says why. */
  availability(): { available: true } | { available: false; reason: string };
  /** Seal bytes with a key only this OS user can use. Throws KEYCHAIN_UNAVAILABLE when it cannot. */
  seal(secret: Uint8Array): Uint8Array;
  /** Open what seal produced. Throws KEYCHAIN_UNAVAILABLE when the OS refuses. */
  open(sealed: Uint8Array): Uint8Array;
}
