import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { IdentityKeyPair } from '../../app/core/crypto/identity.js';
import { groupDigits, partyDigits, safetyNumber } from '../../app/core/crypto/safety-number.js';
import { loadSodium, type Sodium } from '../../app/core/crypto/sodium.js';

let sodium: Sodium;
beforeAll(async () => {
  sodium = await loadSodium();
});

/** An independent reading of Signal's NumericFingerprintGenerator, on Node's SHA-512. */
function reference(identityKey: Uint8Array, stableId: string): string {
  let hash = Buffer.concat([Buffer.from([0, 0]), identityKey, Buffer.from(stableId, 'utf8')]);
  for (let i = 0; i < 5200; i += 1) hash = createHash('sha512').update(hash).update(identityKey).digest();
  let out = '';
  for (let i = 0; i < 30; i += 5) out += (hash.readUIntBE(i, 5) % 100000).toString().padStart(5, '0');
  return out;
}

describe('safety numbers', () => {
  it('match an independent implementation and are the same from both sides', () => {
    const alice = { identityKey: IdentityKeyPair.generate(sodium).identityKey, username: 'alice' };
    const bob = { identityKey: IdentityKeyPair.generate(sodium).identityKey, username: 'bob' };
    expect(partyDigits(sodium, alice.identityKey, 'alice')).toBe(reference(alice.identityKey, 'alice'));
    const fromAlice = safetyNumber(sodium, alice, bob);
    expect(fromAlice).toMatch(/^\d{60}$/);
    expect(safetyNumber(sodium, bob, alice)).toBe(fromAlice);
    expect(groupDigits(fromAlice)).toHaveLength(12);
  });

  it('change when either key or name changes', () => {
    const alice = { identityKey: IdentityKeyPair.generate(sodium).identityKey, username: 'alice' };
    const bob = { identityKey: IdentityKeyPair.generate(sodium).identityKey, username: 'bob' };
    const base = safetyNumber(sodium, alice, bob);
    expect(safetyNumber(sodium, alice, { ...bob, identityKey: IdentityKeyPair.generate(sodium).identityKey })).not.toBe(base);
    expect(safetyNumber(sodium, alice, { ...bob, username: 'bobby' })).not.toBe(base);
  });
});
