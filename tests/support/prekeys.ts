import sodium from 'libsodium-wrappers-sumo';
import {
  encodeOneTimePrekeys,
  encodePqPrekeys,
  pqPrekeyTranscript,
  signedPrekeyTranscript,
  type PqPrekeyEntry,
} from '../../relay/protocol/index.js';
import { expectOk, type TestIdentity, type WireClient } from './wire-client.js';

/** A recognisable stand-in key: every byte the same. */
export const key = (byte: number, length = 32): Uint8Array => new Uint8Array(length).fill(byte);

export const sign = (identity: TestIdentity, message: Uint8Array): Uint8Array => sodium.crypto_sign_detached(message, identity.identitySecret);

export function pqEntry(identity: TestIdentity, keyId: number, lastResort: boolean): PqPrekeyEntry {
  const publicKey = key(keyId, 1184);
  return { keyId, lastResort, publicKey, signature: sign(identity, pqPrekeyTranscript(keyId, lastResort, publicKey)) };
}

/** Publish a signed prekey (id 5), two one-time prekeys (11, 12) and two ML-KEM prekeys (21 one-time, 29 last resort). */
export async function publishAll(client: WireClient, identity: TestIdentity): Promise<void> {
  await expectOk(client.request({ name: 'PUBLISH_SIGNED_PREKEY', keyId: 5, publicKey: key(5), signature: sign(identity, signedPrekeyTranscript(5, key(5))) }));
  await expectOk(client.request({ name: 'PUBLISH_ONE_TIME_PREKEYS', prekeys: encodeOneTimePrekeys([{ keyId: 11, publicKey: key(11) }, { keyId: 12, publicKey: key(12) }]) }));
  await expectOk(client.request({ name: 'PUBLISH_PQ_PREKEYS', prekeys: encodePqPrekeys([pqEntry(identity, 21, false), pqEntry(identity, 29, true)]) }));
}
