import { agreementKeyTranscript } from '../../../relay/protocol/index.js';
import { toHex } from './bytes.js';
import { randomBytes } from './random.js';
import type { Sodium } from './sodium.js';
import { x25519 } from './x25519.js';

/** The secret and public halves of an identity as stored inside the encrypted database. */
export interface StoredIdentity {
  identityKey: Uint8Array;
  identitySecret: Uint8Array;
  agreementKey: Uint8Array;
  agreementSecret: Uint8Array;
  agreementSig: Uint8Array;
}

const INSPECT = Symbol.for('nodejs.util.inspect.custom');

/**
 * This device's Ed25519 identity key and X25519 agreement key.
 * Secret halves live in private fields and never print: toString, toJSON and inspect show the public key only.
 */
export class IdentityKeyPair {
  readonly identityKey: Uint8Array;
  readonly agreementKey: Uint8Array;
  /** The identity key's signature over the agreement key, published so others can check it. */
  readonly agreementSig: Uint8Array;
  readonly #identitySecret: Uint8Array;
  readonly #agreementSecret: Uint8Array;

  private constructor(stored: StoredIdentity) {
    this.identityKey = stored.identityKey;
    this.agreementKey = stored.agreementKey;
    this.agreementSig = stored.agreementSig;
    this.#identitySecret = stored.identitySecret;
    this.#agreementSecret = stored.agreementSecret;
  }

  static generate(sodium: Sodium): IdentityKeyPair {
    const signing = sodium.crypto_sign_seed_keypair(randomBytes(sodium.crypto_sign_SEEDBYTES));
    const agreement = sodium.crypto_box_seed_keypair(randomBytes(sodium.crypto_box_SEEDBYTES));
    const agreementSig = sodium.crypto_sign_detached(agreementKeyTranscript(agreement.publicKey), signing.privateKey);
    return new IdentityKeyPair({
      identityKey: signing.publicKey,
      identitySecret: signing.privateKey,
      agreementKey: agreement.publicKey,
      agreementSecret: agreement.privateKey,
      agreementSig,
    });
  }

  static fromStored(stored: StoredIdentity): IdentityKeyPair {
    return new IdentityKeyPair(stored);
  }

  /** The full key material, for writing into the encrypted database only. */
  toStored(): StoredIdentity {
    return {
      identityKey: this.identityKey,
      identitySecret: this.#identitySecret,
      agreementKey: this.agreementKey,
      agreementSecret: this.#agreementSecret,
      agreementSig: this.agreementSig,
    };
  }

  sign(sodium: Sodium, message: Uint8Array): Uint8Array {
    return sodium.crypto_sign_detached(message, this.#identitySecret);
  }

  /** Open a crypto_box_seal ciphertext addressed to this agreement key; throws on failure. */
  unseal(sodium: Sodium, sealed: Uint8Array): Uint8Array {
    return sodium.crypto_box_seal_open(sealed, this.agreementKey, this.#agreementSecret);
  }

  /** X25519 of the agreement secret with a peer's public key (the DH with IK in PQXDH); undefined for a low-order key. */
  agree(sodium: Sodium, publicKey: Uint8Array): Uint8Array | undefined {
    return x25519(sodium, this.#agreementSecret, publicKey);
  }

  /** Overwrite the secret halves (on lock or close). */
  wipe(sodium: Sodium): void {
    sodium.memzero(this.#identitySecret);
    sodium.memzero(this.#agreementSecret);
  }

  toString(): string {
    return `IdentityKeyPair(${toHex(this.identityKey)})`;
  }

  toJSON(): { identityKey: string } {
    return { identityKey: toHex(this.identityKey) };
  }

  [INSPECT](): string {
    return this.toString();
  }
}

/** Does this identity key vouch for this agreement key? */
export function verifyAgreementKey(sodium: Sodium, identityKey: Uint8Array, agreementKey: Uint8Array, agreementSig: Uint8Array): boolean {
  try {
    return sodium.crypto_sign_verify_detached(agreementSig, agreementKeyTranscript(agreementKey), identityKey);
  } catch {
    return false;
  }
}
