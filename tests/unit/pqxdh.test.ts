import { beforeAll, describe, expect, it } from 'vitest';
import { IdentityKeyPair } from '../../app/core/crypto/identity.js';
import { pqxdhInitiate, pqxdhRespond } from '../../app/core/crypto/pqxdh.js';
import { loadSodium, type Sodium } from '../../app/core/crypto/sodium.js';
import { bundleOf, makeResponder, unwrap } from '../support/sessions.js';

let sodium: Sodium;
beforeAll(async () => {
  sodium = await loadSodium();
});

const flip = (bytes: Uint8Array, at = 0): Uint8Array => {
  const out = Uint8Array.from(bytes);
  out[at] = (out[at] ?? 0) ^ 1;
  return out;
};

describe('PQXDH', () => {
  it('gives both sides the same SK and AD, with and without a one-time prekey', () => {
    for (const withOneTime of [true, false]) {
      const bob = makeResponder(sodium);
      const alice = IdentityKeyPair.generate(sodium);
      const init = unwrap(pqxdhInitiate(sodium, alice, bundleOf(bob, withOneTime)));
      const response = unwrap(pqxdhRespond(sodium, bob.identity, init.header, { signedPrekey: bob.signed.keyPair, oneTimePrekey: withOneTime ? bob.oneTime.keyPair : null, pqPrekey: bob.pq.keyPair }));
      expect(response.sk).toEqual(init.sk);
      expect(response.ad).toEqual(init.ad);
      expect(init.header.oneTimePrekeyId).toBe(withOneTime ? bob.oneTime.id : null);
      expect(init.sk).toHaveLength(32);
    }
  });

  it('aborts on a forged signed prekey, PQ prekey or agreement key signature', () => {
    const bob = makeResponder(sodium);
    const alice = IdentityKeyPair.generate(sodium);
    const good = bundleOf(bob);
    const forged = [
      { ...good, signedPrekey: { ...good.signedPrekey, signature: flip(good.signedPrekey.signature) } },
      { ...good, signedPrekey: { ...good.signedPrekey, publicKey: flip(good.signedPrekey.publicKey) } },
      { ...good, pqPrekey: { ...good.pqPrekey, signature: flip(good.pqPrekey.signature, 40) } },
      { ...good, pqPrekey: { ...good.pqPrekey, lastResort: !good.pqPrekey.lastResort } },
      { ...good, agreementSig: flip(good.agreementSig) },
    ];
    for (const bundle of forged) {
      const result = pqxdhInitiate(sodium, alice, bundle);
      expect(result.ok ? 'accepted' : result.error.code).toBe('PREKEY_BAD_SIGNATURE');
    }
  });

  it('rejects a bundle with a truncated ML-KEM key or a low-order prekey', () => {
    const bob = makeResponder(sodium);
    const alice = IdentityKeyPair.generate(sodium);
    const good = bundleOf(bob);
    const result = pqxdhInitiate(sodium, alice, { ...good, oneTimePrekey: { id: 1, publicKey: new Uint8Array(32) } });
    expect(result.ok ? 'accepted' : result.error.code).toBe('PREKEY_BUNDLE_INVALID');
  });

  it('a tampered KEM ciphertext yields a different secret (implicit rejection), not a crash', () => {
    const bob = makeResponder(sodium);
    const alice = IdentityKeyPair.generate(sodium);
    const init = unwrap(pqxdhInitiate(sodium, alice, bundleOf(bob)));
    const header = { ...init.header, kemCiphertext: flip(init.header.kemCiphertext, 5) };
    const response = unwrap(pqxdhRespond(sodium, bob.identity, header, { signedPrekey: bob.signed.keyPair, oneTimePrekey: bob.oneTime.keyPair, pqPrekey: bob.pq.keyPair }));
    expect(response.sk).not.toEqual(init.sk);
    const truncated = pqxdhRespond(sodium, bob.identity, { ...init.header, kemCiphertext: init.header.kemCiphertext.subarray(1) }, { signedPrekey: bob.signed.keyPair, oneTimePrekey: bob.oneTime.keyPair, pqPrekey: bob.pq.keyPair });
    expect(truncated.ok ? 'accepted' : truncated.error.code).toBe('PREKEY_BUNDLE_INVALID');
  });
});
