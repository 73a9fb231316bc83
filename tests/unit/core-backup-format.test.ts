import { beforeAll, describe, expect, it } from 'vitest';
import { ParleyError } from '../../app/shared/errors.js';
import { packContainer, unpackContainer } from '../../app/core/backup/container.js';
import { openBackup, sealBackup } from '../../app/core/backup/format.js';
import { randomBytes } from '../../app/core/crypto/random.js';
import { loadSodium, type Sodium } from '../../app/core/crypto/sodium.js';

let sodium: Sodium;
beforeAll(async () => {
  sodium = await loadSodium();
});

const PASS = { passphrase: 'backup passphrase for the tests' };

function codeOf(action: () => unknown): string | undefined {
  try {
    action();
  } catch (error) {
    return error instanceof ParleyError ? error.code : `not a ParleyError: ${String(error)}`;
  }
  return undefined;
}

describe('backup file format', () => {
  it('round-trips a container under a passphrase and under a raw key', () => {
    const container = packContainer([
      { name: 'vault.json', data: Buffer.from('{}') },
      { name: 'parley.db', data: randomBytes(200_000) },
    ]);
    expect(openBackup(sodium, sealBackup(sodium, container, PASS), PASS)).toEqual(container);
    const key = { key: randomBytes(32) };
    expect(openBackup(sodium, sealBackup(sodium, container, key), key)).toEqual(container);
    expect(unpackContainer(container).map((file) => file.name)).toEqual(['vault.json', 'parley.db']);
  });

  it('tells a wrong key, damage, truncation and a foreign file apart with stable codes', () => {
    const sealed = sealBackup(sodium, packContainer([{ name: 'parley.db', data: randomBytes(150_000) }]), PASS);
    expect(codeOf(() => openBackup(sodium, sealed, { passphrase: 'another passphrase entirely' }))).toBe('BACKUP_WRONG_KEY');
    expect(codeOf(() => openBackup(sodium, sealed, { key: randomBytes(32) }))).toBe('BACKUP_WRONG_KEY');
    expect(codeOf(() => openBackup(sodium, sealed.subarray(0, sealed.length - 1000), PASS))).toBe('BACKUP_CORRUPT');
    expect(codeOf(() => openBackup(sodium, sealed.subarray(0, 20), PASS))).toBe('BACKUP_CORRUPT');
    const flipped = Uint8Array.from(sealed);
    flipped[flipped.length - 70_000] = (flipped[flipped.length - 70_000] ?? 0) ^ 1;
    expect(codeOf(() => openBackup(sodium, flipped, PASS))).toBe('BACKUP_CORRUPT');
    const editedHeader = Uint8Array.from(sealed);
    editedHeader[20] = (editedHeader[20] ?? 0) ^ 1;
    expect(['BACKUP_CORRUPT', 'BACKUP_WRONG_KEY']).toContain(codeOf(() => openBackup(sodium, editedHeader, PASS)));
    expect(codeOf(() => openBackup(sodium, Buffer.from('SQLite format 3\0 and more bytes'), PASS))).toBe('BACKUP_NOT_OURS');
    expect(codeOf(() => openBackup(sodium, new Uint8Array(), PASS))).toBe('BACKUP_NOT_OURS');
  });
});
