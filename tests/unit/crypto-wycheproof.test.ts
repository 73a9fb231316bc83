import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { chachaIetfDecrypt, chachaIetfEncrypt, xchachaDecrypt, xchachaEncrypt } from '../../app/core/crypto/aead.js';
import { concatBytes, equalBytes, fromHex } from '../../app/core/crypto/bytes.js';
import { ed25519Verify } from '../../app/core/crypto/ed25519.js';
import { hkdfSha256 } from '../../app/core/crypto/hkdf.js';
import { hmacSha256, hmacSha256Verify } from '../../app/core/crypto/hmac.js';
import { mlkemDecapsulate, mlkemEncapsulateDeterministic, mlkemFromSeed } from '../../app/core/crypto/mlkem.js';
import { loadSodium, type Sodium } from '../../app/core/crypto/sodium.js';
import { x25519 } from '../../app/core/crypto/x25519.js';
import { loadTests, type Common } from '../support/wycheproof.js';

let sodium: Sodium;
beforeAll(async () => {
  sodium = await loadSodium();
});

const hex = z.string().transform((text) => fromHex(text));
const tally = new Map<string, { ran: number; valid: number; invalid: number; acceptable: number; notRunnable: number }>();
afterAll(() => {
  for (const [file, t] of tally) {
    console.log(`wycheproof ${file}: ${t.ran} ran (valid ${t.valid}, invalid ${t.invalid}, acceptable ${t.acceptable}), ${t.notRunnable} not runnable`);
  }
});

/** Run `check` on every test; it returns true when the wrapper behaved as the vector's result demands. */
function runAll<T extends Common>(file: string, tests: readonly T[], check: (test: T) => boolean): void {
  const failed: string[] = [];
  const counts = { ran: 0, valid: 0, invalid: 0, acceptable: 0, notRunnable: 0 };
  for (const test of tests) {
    counts.ran += 1;
    counts[test.result] += 1;
    let ok: boolean;
    try {
      ok = check(test);
    } catch (error) {
      ok = false;
      failed.push(`tcId ${test.tcId} threw ${String(error)}`);
      continue;
    }
    if (!ok) failed.push(`tcId ${test.tcId} (${test.result}, ${test.comment ?? ''}, [${test.flags.join(',')}])`);
  }
  tally.set(file, counts);
  expect(failed).toEqual([]);
  expect(counts.ran).toBeGreaterThan(0);
}

const same = (a: Uint8Array | undefined, b: Uint8Array): boolean => a !== undefined && equalBytes(a, b);

describe('Wycheproof known answers through the Parley crypto wrappers', () => {
  it('x25519', () => {
    const rows = loadTests('x25519_test.json', z.object({ curve: z.literal('curve25519') }), z.object({ public: hex, private: hex, shared: hex }));
    runAll('x25519_test.json', rows.map((r) => r.test), (t) => {
      const shared = x25519(sodium, t.private, t.public);
      // Parley refuses an all-zero shared secret (RFC 7748 section 6.1); other acceptable cases must agree.
      if (t.flags.includes('ZeroSharedSecret')) return shared === undefined;
      return same(shared, t.shared);
    });
  });

  it('ed25519', () => {
    const rows = loadTests('ed25519_test.json', z.object({ publicKey: z.object({ pk: hex }) }), z.object({ msg: hex, sig: hex }));
    runAll('ed25519_test.json', rows.map((r) => ({ ...r.test, pk: r.group.publicKey.pk })), (t) => {
      const verified = ed25519Verify(sodium, t.pk, t.msg, t.sig);
      return t.result === 'valid' ? verified : t.result === 'invalid' ? !verified : true;
    });
  });

  const aead = z.object({ key: hex, iv: hex, aad: hex, msg: hex, ct: hex, tag: hex });
  it('xchacha20-poly1305', () => {
    const rows = loadTests('xchacha20_poly1305_test.json', z.object({ ivSize: z.number() }), aead);
    runAll('xchacha20_poly1305_test.json', rows.map((r) => r.test), (t) => {
      const opened = xchachaDecrypt(sodium, t.key, t.iv, concatBytes([t.ct, t.tag]), t.aad);
      if (t.result !== 'valid') return opened === undefined;
      return same(opened, t.msg) && same(xchachaEncrypt(sodium, t.key, t.iv, t.msg, t.aad), concatBytes([t.ct, t.tag]));
    });
  });

  it('chacha20-poly1305', () => {
    const rows = loadTests('chacha20_poly1305_test.json', z.object({ ivSize: z.number() }), aead);
    runAll('chacha20_poly1305_test.json', rows.map((r) => r.test), (t) => {
      const opened = chachaIetfDecrypt(sodium, t.key, t.iv, concatBytes([t.ct, t.tag]), t.aad);
      if (t.result !== 'valid') return opened === undefined;
      return same(opened, t.msg) && same(chachaIetfEncrypt(sodium, t.key, t.iv, t.msg, t.aad), concatBytes([t.ct, t.tag]));
    });
  });

  it('hkdf-sha256', () => {
    const rows = loadTests('hkdf_sha256_test.json', z.object({}), z.object({ ikm: hex, salt: hex, info: hex, size: z.number(), okm: hex }));
    runAll('hkdf_sha256_test.json', rows.map((r) => r.test), (t) => {
      if (t.result !== 'valid') {
        try {
          hkdfSha256(sodium, t.ikm, t.salt, t.info, t.size);
          return false;
        } catch (error) {
          return error instanceof RangeError;
        }
      }
      return same(hkdfSha256(sodium, t.ikm, t.salt, t.info, t.size), t.okm);
    });
  });

  it('hmac-sha256', () => {
    const rows = loadTests('hmac_sha256_test.json', z.object({ tagSize: z.number() }), z.object({ key: hex, msg: hex, tag: hex }));
    runAll('hmac_sha256_test.json', rows.map((r) => ({ ...r.test, tagBytes: r.group.tagSize / 8 })), (t) => {
      const verified = hmacSha256Verify(sodium, t.key, t.msg, t.tag);
      if (t.result !== 'valid') return !verified;
      return verified && same(hmacSha256(sodium, t.key, t.msg).subarray(0, t.tagBytes), t.tag);
    });
  });

  it('ml-kem-768 key generation from seed and decapsulation', () => {
    const rows = loadTests('mlkem_768_test.json', z.object({ parameterSet: z.literal('ML-KEM-768') }), z.object({ seed: hex, ek: hex.optional(), c: hex, K: hex }));
    runAll('mlkem_768_test.json', rows.map((r) => r.test), (t) => {
      const pair = mlkemFromSeed(sodium, t.seed);
      const shared = pair === undefined ? undefined : mlkemDecapsulate(sodium, pair.secretKey, t.c);
      if (t.result !== 'valid') return shared === undefined;
      return pair !== undefined && (t.ek === undefined || same(pair.publicKey, t.ek)) && same(shared, t.K);
    });
  });

  it('ml-kem-768 encapsulation (with the FIPS 203 modulus check)', () => {
    const rows = loadTests('mlkem_768_encaps_test.json', z.object({ parameterSet: z.literal('ML-KEM-768') }), z.object({ ek: hex, m: hex, c: hex, K: hex }));
    runAll('mlkem_768_encaps_test.json', rows.map((r) => r.test), (t) => {
      const encapsulated = mlkemEncapsulateDeterministic(sodium, t.ek, t.m);
      if (t.result !== 'valid') return encapsulated === undefined;
      return encapsulated !== undefined && same(encapsulated.ciphertext, t.c) && same(encapsulated.sharedSecret, t.K);
    });
  });
});
