import { pqPrekeyTranscript, signedPrekeyTranscript } from '../../../relay/protocol/index.js';
import type { IdentityKeyPair } from './identity.js';
import { mlkemGenerate, type MlKemKeyPair } from './mlkem.js';
import type { OneTimePrekeyPublic, PqPrekeyPublic, SignedPrekeyPublic } from './pqxdh.js';
import type { Sodium } from './sodium.js';
import { x25519Generate, type X25519KeyPair } from './x25519.js';

/** A prekey with its private half, as kept in the device's encrypted database. */
export interface SignedPrekeyRecord {
  readonly id: number;
  readonly keyPair: X25519KeyPair;
  readonly signature: Uint8Array;
}
export interface PqPrekeyRecord {
  readonly id: number;
  readonly keyPair: MlKemKeyPair;
  readonly signature: Uint8Array;
  readonly lastResort: boolean;
}
export interface OneTimePrekeyRecord {
  readonly id: number;
  readonly keyPair: X25519KeyPair;
}

export function generateSignedPrekey(sodium: Sodium, self: IdentityKeyPair, id: number): SignedPrekeyRecord {
  const keyPair = x25519Generate(sodium);
  return { id, keyPair, signature: self.sign(sodium, signedPrekeyTranscript(id, keyPair.publicKey)) };
}

export function generatePqPrekey(sodium: Sodium, self: IdentityKeyPair, id: number, lastResort: boolean): PqPrekeyRecord {
  const keyPair = mlkemGenerate(sodium);
  return { id, keyPair, lastResort, signature: self.sign(sodium, pqPrekeyTranscript(id, lastResort, keyPair.publicKey)) };
}

export function generateOneTimePrekeys(sodium: Sodium, firstId: number, count: number): OneTimePrekeyRecord[] {
  return Array.from({ length: count }, (_, at) => ({ id: firstId + at, keyPair: x25519Generate(sodium) }));
}

export const signedPrekeyPublic = (record: SignedPrekeyRecord): SignedPrekeyPublic => ({ id: record.id, publicKey: record.keyPair.publicKey, signature: record.signature });
export const pqPrekeyPublic = (record: PqPrekeyRecord): PqPrekeyPublic => ({ id: record.id, publicKey: record.keyPair.publicKey, signature: record.signature, lastResort: record.lastResort });
export const oneTimePrekeyPublic = (record: OneTimePrekeyRecord): OneTimePrekeyPublic => ({ id: record.id, publicKey: record.keyPair.publicKey });
