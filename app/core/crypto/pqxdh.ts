import { pqPrekeyTranscript, signedPrekeyTranscript } from '../../../relay/protocol/index.js';
import { fail, ok, type Result } from '../../shared/result.js';
import type { ErrorCode } from '../../shared/errors.js';
import { concatBytes, utf8 } from './bytes.js';
import { ed25519Verify } from './ed25519.js';
import { hkdfSha256 } from './hkdf.js';
import { verifyAgreementKey, type IdentityKeyPair } from './identity.js';
import { mlkemDecapsulate, mlkemEncapsulate, type MlKemKeyPair } from './mlkem.js';
import type { Sodium } from './sodium.js';
import { x25519, x25519Generate, X25519_BYTES, type X25519KeyPair } from './x25519.js';

/** PQXDH parameters (Signal's PQXDH specification, section 2.2). */
const INFO = utf8.encode('Parley_PQXDH_X25519_SHA-256_ML-KEM-768');
const F = new Uint8Array(32).fill(0xff);
const SALT = new Uint8Array(32);

export interface SignedPrekeyPublic {
  readonly id: number;
  readonly publicKey: Uint8Array;
  readonly signature: Uint8Array;
}
export interface PqPrekeyPublic extends SignedPrekeyPublic {
  readonly lastResort: boolean;
}
export interface OneTimePrekeyPublic {
  readonly id: number;
  readonly publicKey: Uint8Array;
}

/** What the relay serves for a user: identity, signed prekey, one ML-KEM prekey, maybe a one-time X25519 prekey. */
export interface PrekeyBundle {
  readonly identityKey: Uint8Array;
  readonly agreementKey: Uint8Array;
  readonly agreementSig: Uint8Array;
  readonly signedPrekey: SignedPrekeyPublic;
  readonly pqPrekey: PqPrekeyPublic;
  readonly oneTimePrekey: OneTimePrekeyPublic | null;
}

/** Sent with every message until the responder's first reply arrives. */
export interface InitialHeader {
  readonly identityKey: Uint8Array;
  readonly agreementKey: Uint8Array;
  readonly agreementSig: Uint8Array;
  readonly ephemeralKey: Uint8Array;
  readonly signedPrekeyId: number;
  readonly oneTimePrekeyId: number | null;
  readonly pqPrekeyId: number;
  readonly kemCiphertext: Uint8Array;
}

/** The responder's private prekeys named by an initial header, looked up by the caller. */
export interface ResponderPrekeys {
  readonly signedPrekey: X25519KeyPair;
  readonly oneTimePrekey: X25519KeyPair | null;
  readonly pqPrekey: MlKemKeyPair;
}

export interface Handshake {
  /** The 32-byte shared secret SK that seeds the Double Ratchet. */
  readonly sk: Uint8Array;
  /** AD = Encode(IK_A) || Encode(IK_B); Encode(IK) = Ed25519 identity key || X25519 agreement key. */
  readonly ad: Uint8Array;
}

const failWith = <T>(code: ErrorCode, message: string): Result<T> => fail({ code, message });

function kdf(sodium: Sodium, km: readonly Uint8Array[]): Uint8Array {
  return hkdfSha256(sodium, concatBytes([F, ...km]), SALT, INFO, 32);
}

function associatedData(initiator: { identityKey: Uint8Array; agreementKey: Uint8Array }, responder: { identityKey: Uint8Array; agreementKey: Uint8Array }): Uint8Array {
  return concatBytes([initiator.identityKey, initiator.agreementKey, responder.identityKey, responder.agreementKey]);
}

/** Check every signature of a bundle; PREKEY_BAD_SIGNATURE aborts the handshake. */
export function verifyBundle(sodium: Sodium, bundle: PrekeyBundle): Result<PrekeyBundle> {
  if (!verifyAgreementKey(sodium, bundle.identityKey, bundle.agreementKey, bundle.agreementSig)) {
    return failWith('PREKEY_BAD_SIGNATURE', 'The identity key does not vouch for the agreement key');
  }
  const spk = bundle.signedPrekey;
  if (!ed25519Verify(sodium, bundle.identityKey, signedPrekeyTranscript(spk.id, spk.publicKey), spk.signature)) {
    return failWith('PREKEY_BAD_SIGNATURE', 'The signed prekey signature does not verify');
  }
  const pq = bundle.pqPrekey;
  if (!ed25519Verify(sodium, bundle.identityKey, pqPrekeyTranscript(pq.id, pq.lastResort, pq.publicKey), pq.signature)) {
    return failWith('PREKEY_BAD_SIGNATURE', 'The post-quantum prekey signature does not verify');
  }
  return ok(bundle);
}

/** Alice's side: verify the bundle, run DH1..DH4 and ML-KEM encapsulation, derive SK. */
export function pqxdhInitiate(sodium: Sodium, self: IdentityKeyPair, bundle: PrekeyBundle): Result<Handshake & { header: InitialHeader }> {
  const verified = verifyBundle(sodium, bundle);
  if (!verified.ok) return verified;
  const ek = x25519Generate(sodium);
  const dh1 = self.agree(sodium, bundle.signedPrekey.publicKey);
  const dh2 = x25519(sodium, ek.secretKey, bundle.agreementKey);
  const dh3 = x25519(sodium, ek.secretKey, bundle.signedPrekey.publicKey);
  const dh4 = bundle.oneTimePrekey === null ? new Uint8Array(0) : x25519(sodium, ek.secretKey, bundle.oneTimePrekey.publicKey);
  const kem = mlkemEncapsulate(sodium, bundle.pqPrekey.publicKey);
  if (dh1 === undefined || dh2 === undefined || dh3 === undefined || dh4 === undefined || kem === undefined) {
    return failWith('PREKEY_BUNDLE_INVALID', 'The prekey bundle holds an unusable key');
  }
  const sk = kdf(sodium, [dh1, dh2, dh3, dh4, kem.sharedSecret]);
  const header: InitialHeader = {
    identityKey: self.identityKey,
    agreementKey: self.agreementKey,
    agreementSig: self.agreementSig,
    ephemeralKey: ek.publicKey,
    signedPrekeyId: bundle.signedPrekey.id,
    oneTimePrekeyId: bundle.oneTimePrekey?.id ?? null,
    pqPrekeyId: bundle.pqPrekey.id,
    kemCiphertext: kem.ciphertext,
  };
  return ok({ sk, ad: associatedData(self, bundle), header });
}

/** Bob's side: the same SK from his private prekeys; the caller deletes the one-time ones afterwards. */
export function pqxdhRespond(sodium: Sodium, self: IdentityKeyPair, header: InitialHeader, prekeys: ResponderPrekeys): Result<Handshake> {
  if (!verifyAgreementKey(sodium, header.identityKey, header.agreementKey, header.agreementSig)) {
    return failWith('PREKEY_BAD_SIGNATURE', "The sender's identity key does not vouch for its agreement key");
  }
  if (header.ephemeralKey.length !== X25519_BYTES || (header.oneTimePrekeyId === null) !== (prekeys.oneTimePrekey === null)) {
    return failWith('PREKEY_BUNDLE_INVALID', 'The initial message does not match the prekeys');
  }
  const dh1 = x25519(sodium, prekeys.signedPrekey.secretKey, header.agreementKey);
  const dh2 = self.agree(sodium, header.ephemeralKey);
  const dh3 = x25519(sodium, prekeys.signedPrekey.secretKey, header.ephemeralKey);
  const dh4 = prekeys.oneTimePrekey === null ? new Uint8Array(0) : x25519(sodium, prekeys.oneTimePrekey.secretKey, header.ephemeralKey);
  const ss = mlkemDecapsulate(sodium, prekeys.pqPrekey.secretKey, header.kemCiphertext);
  if (dh1 === undefined || dh2 === undefined || dh3 === undefined || dh4 === undefined || ss === undefined) {
    return failWith('PREKEY_BUNDLE_INVALID', 'The initial message holds an unusable key');
  }
  return ok({ sk: kdf(sodium, [dh1, dh2, dh3, dh4, ss]), ad: associatedData(header, self) });
}
