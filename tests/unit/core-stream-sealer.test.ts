import { readFile } from 'node:fs/promises';
import path from 'node:path';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { unpackContainer } from '../../app/core/backup/container.js';
import { openBackup } from '../../app/core/backup/format.js';
import { concatBytes } from '../../app/core/crypto/bytes.js';
import { randomBytes } from '../../app/core/crypto/random.js';
import { openStream, sealStream, STREAM_CHUNK_BYTES, StreamSealer } from '../../app/core/crypto/secretstream.js';
import { loadSodium, type Sodium } from '../../app/core/crypto/sodium.js';

let sodium: Sodium;
beforeAll(async () => {
  sodium = await loadSodium();
});

const AD = new TextEncoder().encode('stream sealer test');

/** Seal `plaintext` handed to the sealer in pieces cut at `cuts`. */
function sealInPieces(key: Uint8Array, plaintext: Uint8Array, cuts: number[]): Uint8Array {
  const sealer = new StreamSealer(sodium, key, AD);
  const parts = [sealer.header];
  let from = 0;
  for (const cut of [...cuts.map((at) => Math.min(at, plaintext.length)).sort((a, b) => a - b), plaintext.length]) {
    parts.push(...sealer.push(plaintext.subarray(from, Math.max(from, cut))));
    from = Math.max(from, cut);
  }
  parts.push(sealer.final());
  return concatBytes(parts);
}

describe('StreamSealer', () => {
  it('frames the stream as sealStream always has, however the plaintext is split', () => {
    const sizes = [0, 1, STREAM_CHUNK_BYTES - 1, STREAM_CHUNK_BYTES, STREAM_CHUNK_BYTES + 1, 3 * STREAM_CHUNK_BYTES, 3 * STREAM_CHUNK_BYTES + 17];
    fc.assert(
      fc.property(fc.constantFrom(...sizes), fc.array(fc.nat(4 * STREAM_CHUNK_BYTES), { maxLength: 8 }), (size, cuts) => {
        const key = randomBytes(32);
        const plaintext = randomBytes(size);
        const pieces = sealInPieces(key, plaintext, cuts);
        // openStream reads fixed-size chunks and needs FINAL last: any other framing would fail here.
        // Buffer.equals: a deep toEqual over hundreds of KiB is slow.
        expect(Buffer.from(openStream(sodium, key, pieces, AD)).equals(plaintext)).toBe(true);
        // sealStream's framing, from its definition: full chunks, the last (possibly empty) one FINAL.
        const chunks = size === 0 ? 1 : Math.ceil(size / STREAM_CHUNK_BYTES);
        expect(pieces.length).toBe(sodium.crypto_secretstream_xchacha20poly1305_HEADERBYTES + size + chunks * sodium.crypto_secretstream_xchacha20poly1305_ABYTES);
        expect(sealStream(sodium, key, plaintext, AD).length).toBe(pieces.length);
      }),
      { numRuns: 60 },
    );
  });

  it('refuses bytes after the final chunk', () => {
    const sealer = new StreamSealer(sodium, randomBytes(32), AD);
    sealer.final();
    expect(() => sealer.push(new Uint8Array([1]))).toThrow('push after the final chunk');
  });

  it('still opens a backup written by the earlier, all-in-memory writer', async () => {
    const file = await readFile(path.join(import.meta.dirname, '..', 'fixtures', 'backup-v1-raw-key.parley-backup'));
    const files = unpackContainer(openBackup(sodium, file, { key: new Uint8Array(32).fill(0x42) }));
    expect(files.map((entry) => entry.name)).toEqual(['vault.json', 'parley.db']);
    expect(Buffer.from(files[0]?.data ?? []).toString()).toBe('{"fixture":true}');
    // The fixture's database stand-in: 70,000 bytes (more than one chunk) of a simple known pattern.
    expect(Buffer.from(files[1]?.data ?? []).equals(Uint8Array.from({ length: 70_000 }, (_, i) => (i * 31 + 7) & 0xff))).toBe(true);
  });
});
