import { IdentityKeyPair } from '../../app/core/crypto/identity.js';
import { pqxdhInitiate, pqxdhRespond, type PrekeyBundle } from '../../app/core/crypto/pqxdh.js';
import { generateOneTimePrekeys, generatePqPrekey, generateSignedPrekey, oneTimePrekeyPublic, pqPrekeyPublic, signedPrekeyPublic, type OneTimePrekeyRecord, type PqPrekeyRecord, type SignedPrekeyRecord } from '../../app/core/crypto/prekeys.js';
import { initInitiator, initResponder } from '../../app/core/crypto/ratchet.js';
import type { RatchetState } from '../../app/core/crypto/ratchet-state.js';
import type { Sodium } from '../../app/core/crypto/sodium.js';
import type { Result } from '../../app/shared/result.js';

export interface Responder {
  identity: IdentityKeyPair;
  signed: SignedPrekeyRecord;
  pq: PqPrekeyRecord;
  oneTime: OneTimePrekeyRecord;
}

export function makeResponder(sodium: Sodium): Responder {
  const identity = IdentityKeyPair.generate(sodium);
  return {
    identity,
    signed: generateSignedPrekey(sodium, identity, 1),
    pq: generatePqPrekey(sodium, identity, 7, false),
    oneTime: generateOneTimePrekeys(sodium, 100, 1)[0] as OneTimePrekeyRecord,
  };
}

export function bundleOf(responder: Responder, withOneTime = true): PrekeyBundle {
  return {
    identityKey: responder.identity.identityKey,
    agreementKey: responder.identity.agreementKey,
    agreementSig: responder.identity.agreementSig,
    signedPrekey: signedPrekeyPublic(responder.signed),
    pqPrekey: pqPrekeyPublic(responder.pq),
    oneTimePrekey: withOneTime ? oneTimePrekeyPublic(responder.oneTime) : null,
  };
}

export function unwrap<T>(result: Result<T>): T {
  if (!result.ok) throw new Error(`${result.error.code}: ${result.error.message}`);
  return result.value;
}

/** Both ends of a fresh PQXDH session: Alice can send, Bob can send once he has received. */
export function establish(sodium: Sodium): { alice: RatchetState; bob: RatchetState } {
  const responder = makeResponder(sodium);
  const aliceIdentity = IdentityKeyPair.generate(sodium);
  const init = unwrap(pqxdhInitiate(sodium, aliceIdentity, bundleOf(responder)));
  const alice = unwrap(initInitiator(sodium, init.sk, responder.signed.keyPair.publicKey, init.ad));
  const handshake = unwrap(pqxdhRespond(sodium, responder.identity, init.header, { signedPrekey: responder.signed.keyPair, oneTimePrekey: responder.oneTime.keyPair, pqPrekey: responder.pq.keyPair }));
  return { alice, bob: initResponder(handshake.sk, responder.signed.keyPair, handshake.ad) };
}
