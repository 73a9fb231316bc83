import { inspect } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { concatBytes, toHex, utf8 } from '../../app/core/crypto/bytes.js';
import { openEnvelope, sealEnvelope, type EnvelopePayload } from '../../app/core/crypto/envelope.js';
import { IdentityKeyPair, verifyAgreementKey } from '../../app/core/crypto/identity.js';
import { ENVELOPE_BUCKETS, pad, paddedLength, SEAL_OVERHEAD } from '../../app/core/crypto/padding.js';
import { loadSodium, type Sodium } from '../../app/core/crypto/sodium.js';
import { codeOf } from '../support/error-code.js';

let sodium: Sodium;
let alice: IdentityKeyPair;
let bob: IdentityKeyPair;
let carol: IdentityKeyPair;

beforeAll(async () => {
  sodium = await loadSodium();
  alice = IdentityKeyPair.generate(sodium);
  bob = IdentityKeyPair.generate(sodium);
  carol = IdentityKeyPair.generate(sodium);
});

const payload = (text: string, to = 'bob'): EnvelopePayload => ({
  v: 1,
  id: '0123456789abcdef0123456789abcdef',
  from: 'alice',
  to,
  sentAt: 1_700_000_000_000,
  text,
});

describe('envelope v1', () => {
  it('round-trips and names the signing identity key', () => {
    const sealed = sealEnvelope(sodium, alice, bob.agreementKey, payload('hello bob'));
    const opened = openEnvelope(sodium, bob, sealed);
    expect(opened.payload).toEqual(payload('hello bob'));
    expect(opened.senderIdentityKey).toEqual(alice.identityKey);
  });

  it('cannot be opened by anyone but the recipient', () => {
    const sealed = sealEnvelope(sodium, alice, bob.agreementKey, payload('for bob only'));
    expect(codeOf(() => openEnvelope(sodium, carol, sealed))).toBe('DECRYPT_FAILED');
  });

  it('fails with a coded error when any byte is changed', () => {
    const sealed = sealEnvelope(sodium, alice, bob.agreementKey, payload('tamper with me'));
    for (const at of [0, 31, 32, 100, sealed.length - 1]) {
      const tampered = Uint8Array.from(sealed);
      tampered[at] = (tampered[at] ?? 0) ^ 0x01;
      expect(codeOf(() => openEnvelope(sodium, bob, tampered))).toBe('DECRYPT_FAILED');
    }
    expect(codeOf(() => openEnvelope(sodium, bob, sealed.subarray(0, 40)))).toBe('DECRYPT_FAILED');
  });

  it('rejects an envelope re-sealed to someone else (the signature covers the recipient key)', () => {
    const sealed = sealEnvelope(sodium, alice, bob.agreementKey, payload('forward me', 'carol'));
    const plaintext = bob.unseal(sodium, sealed);
    const forwarded = sodium.crypto_box_seal(plaintext, carol.agreementKey);
    expect(codeOf(() => openEnvelope(sodium, carol, forwarded))).toBe('DECRYPT_BAD_SIGNATURE');
  });

  it('rejects a signature by a key other than the one in the envelope', () => {
    const body = utf8.encode(JSON.stringify(payload('forged')));
    const length = new Uint8Array(4);
    new DataView(length.buffer).setUint32(0, body.length);
    const signature = carol.sign(sodium, concatBytes([utf8.encode('parley-envelope-v1'), bob.agreementKey, body]));
    const plaintext = pad(concatBytes([length, body, signature, alice.identityKey]));
    const sealed = sodium.crypto_box_seal(plaintext, bob.agreementKey);
    expect(codeOf(() => openEnvelope(sodium, bob, sealed))).toBe('DECRYPT_BAD_SIGNATURE');
  });

  it('rejects non-zero padding and a payload that is not the v1 shape', () => {
    const sealed = sealEnvelope(sodium, alice, bob.agreementKey, payload('padding'));
    const plaintext = bob.unseal(sodium, sealed);
    plaintext[plaintext.length - 1] = 1;
    expect(codeOf(() => openEnvelope(sodium, bob, sodium.crypto_box_seal(plaintext, bob.agreementKey)))).toBe('DECRYPT_FAILED');

    const body = utf8.encode(JSON.stringify({ ...payload('x'), v: 2 }));
    const length = new Uint8Array(4);
    new DataView(length.buffer).setUint32(0, body.length);
    const signature = alice.sign(sodium, concatBytes([utf8.encode('parley-envelope-v1'), bob.agreementKey, body]));
    const wrongShape = sodium.crypto_box_seal(pad(concatBytes([length, body, signature, alice.identityKey])), bob.agreementKey);
    expect(codeOf(() => openEnvelope(sodium, bob, wrongShape))).toBe('DECRYPT_FAILED');
  });

  it('pads every envelope to exactly one bucket size', () => {
    const sizes = new Set<number>();
    for (const length of [0, 1, 100, 150, 900, 3_000, 12_000, 40_000]) {
      const sealed = sealEnvelope(sodium, alice, bob.agreementKey, payload('x'.repeat(length) || 'y'));
      expect(ENVELOPE_BUCKETS).toContain(sealed.length);
      sizes.add(sealed.length);
    }
    expect([...sizes].sort((a, b) => a - b)).toEqual([...ENVELOPE_BUCKETS]);
  });

  it('chooses the smallest bucket that fits and refuses more than the largest', () => {
    expect(paddedLength(0)).toBe(256 - SEAL_OVERHEAD);
    expect(paddedLength(256 - SEAL_OVERHEAD)).toBe(256 - SEAL_OVERHEAD);
    expect(paddedLength(256 - SEAL_OVERHEAD + 1)).toBe(1024 - SEAL_OVERHEAD);
    expect(paddedLength(64 * 1024 - SEAL_OVERHEAD)).toBe(64 * 1024 - SEAL_OVERHEAD);
    expect(codeOf(() => paddedLength(64 * 1024 - SEAL_OVERHEAD + 1))).toBe('MESSAGE_TOO_LARGE');
    expect(codeOf(() => sealEnvelope(sodium, alice, bob.agreementKey, payload('\u0001'.repeat(16_000))))).toBe('MESSAGE_TOO_LARGE');
  });
});

describe('identity keys', () => {
  it('vouch for their agreement key, and no other', () => {
    expect(verifyAgreementKey(sodium, alice.identityKey, alice.agreementKey, alice.agreementSig)).toBe(true);
    expect(verifyAgreementKey(sodium, alice.identityKey, bob.agreementKey, alice.agreementSig)).toBe(false);
    expect(verifyAgreementKey(sodium, bob.identityKey, alice.agreementKey, alice.agreementSig)).toBe(false);
  });

  it('never print their secret halves', () => {
    const secrets = alice.toStored();
    const printed = [String(alice), inspect(alice, { showHidden: true, depth: 5 }), JSON.stringify(alice), JSON.stringify({ alice })];
    for (const text of printed) {
      expect(text).toContain(toHex(alice.identityKey));
      expect(text).not.toContain(toHex(secrets.identitySecret.subarray(0, 32)));
      expect(text).not.toContain(toHex(secrets.agreementSecret));
    }
  });
});
