import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { ParleyError } from '../../app/shared/errors.js';
import { utf8 } from '../../app/core/crypto/bytes.js';
import { IdentityKeyPair } from '../../app/core/crypto/identity.js';
import { ENVELOPE_BUCKETS } from '../../app/core/crypto/padding.js';
import { pqxdhInitiate } from '../../app/core/crypto/pqxdh.js';
import { ratchetDecrypt, ratchetEncrypt } from '../../app/core/crypto/ratchet.js';
import { decodeRatchetState, encodeRatchetState } from '../../app/core/crypto/ratchet-codec.js';
import { openSessionEnvelope, sealSessionEnvelope } from '../../app/core/crypto/session-envelope.js';
import { loadSodium, type Sodium } from '../../app/core/crypto/sodium.js';
import { bundleOf, establish, makeResponder, unwrap } from '../support/sessions.js';

let sodium: Sodium;
beforeAll(async () => {
  sodium = await loadSodium();
});

describe('envelope v2', () => {
  it('round-trips with and without the initial header, at bucket sizes only', () => {
    const bob = IdentityKeyPair.generate(sodium);
    const alice = IdentityKeyPair.generate(sodium);
    const header = unwrap(pqxdhInitiate(sodium, alice, bundleOf(makeResponder(sodium)))).header;
    for (const [initialHeader, length] of [[header, 10], [null, 10], [null, 3000], [header, 20_000]] as const) {
      const ratchetMessage = sodium.randombytes_buf(length);
      const sealed = sealSessionEnvelope(sodium, bob.agreementKey, { senderIdentityKey: alice.identityKey, initialHeader, ratchetMessage });
      expect(ENVELOPE_BUCKETS).toContain(sealed.length);
      expect(openSessionEnvelope(sodium, bob, sealed)).toEqual({ senderIdentityKey: alice.identityKey, initialHeader, ratchetMessage });
    }
  });

  it('never throws on hostile bytes, sealed to us or not', () => {
    const bob = IdentityKeyPair.generate(sodium);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), fc.boolean(), (bytes, sealToBob) => {
        const input = sealToBob ? sodium.crypto_box_seal(bytes, bob.agreementKey) : bytes;
        expect(() => openSessionEnvelope(sodium, bob, input)).not.toThrow();
      }),
      { numRuns: 300 },
    );
  });
});

describe('ratchet on hostile input', () => {
  it('rejects arbitrary bytes with a coded error and never throws', () => {
    const { alice, bob } = establish(sodium);
    const first = unwrap(ratchetEncrypt(sodium, alice, utf8.encode('hello')));
    const ready = unwrap(ratchetDecrypt(sodium, bob, first.message, 0)).state;
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        const result = ratchetDecrypt(sodium, ready, bytes, 0);
        expect(result.ok).toBe(false);
      }),
      { numRuns: 300 },
    );
  });

  it('stores state as bytes that read back equal; anything else is VAULT_CORRUPT', () => {
    const { alice } = establish(sodium);
    const advanced = unwrap(ratchetEncrypt(sodium, alice, utf8.encode('x'))).state;
    expect(decodeRatchetState(encodeRatchetState(advanced))).toEqual(advanced);
    for (const bad of [utf8.encode('{}'), utf8.encode('not json'), Uint8Array.of(0xff)]) {
      let code: string | undefined;
      try {
        decodeRatchetState(bad);
      } catch (error) {
        code = error instanceof ParleyError ? error.code : 'other';
      }
      expect(code).toBe('VAULT_CORRUPT');
    }
  });
});
