import { mkdtemp, readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ParleyError } from '../../app/shared/errors.js';
import { randomBytes } from '../../app/core/crypto/random.js';
import { loadSodium, type Sodium } from '../../app/core/crypto/sodium.js';
import { STREAM_CHUNK_BYTES } from '../../app/core/crypto/secretstream.js';
import { AttachmentStore } from '../../app/core/store/attachments.js';
import { openDatabase, type Db } from '../../app/core/store/db.js';
import { migrate } from '../../app/core/store/migrations.js';

let sodium: Sodium;
let dir: string;
let db: Db;
let store: AttachmentStore;
const attachmentsDir = (): string => path.join(dir, 'attachments');

beforeAll(async () => {
  sodium = await loadSodium();
});
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'parley-attach-'));
  db = openDatabase(path.join(dir, 'parley.db'), randomBytes(32));
  migrate(db);
  store = new AttachmentStore(sodium, db, attachmentsDir());
});
afterEach(async () => {
  if (db.open) db.close();
  await rm(dir, { recursive: true, force: true });
});

async function codeOf(action: () => Promise<unknown>): Promise<string | undefined> {
  try {
    await action();
  } catch (error) {
    return error instanceof ParleyError ? error.code : 'not a ParleyError';
  }
  return undefined;
}

async function everyFileUnder(folder: string): Promise<Buffer[]> {
  const entries = await readdir(folder, { withFileTypes: true, recursive: true });
  return Promise.all(entries.filter((entry) => entry.isFile()).map((entry) => readFile(path.join(entry.parentPath, entry.name))));
}

describe('attachment store', () => {
  it('round-trips a file larger than one chunk and its thumbnail, with no plaintext on disk', async () => {
    const canary = Buffer.from('CANARY-attachment-text-7d1c');
    const data = Buffer.concat([randomBytes(STREAM_CHUNK_BYTES * 2 + 123), canary]);
    const thumbnail = Buffer.concat([Buffer.from('CANARY-thumbnail-4e2a'), randomBytes(500)]);
    const info = await store.put(data, { mimeType: 'image/png', thumbnail });
    expect(info).toMatchObject({ size: data.length, mimeType: 'image/png', hasThumbnail: true });
    expect(Buffer.from(await store.get(info.id))).toEqual(data);
    expect(Buffer.from(await store.getThumbnail(info.id))).toEqual(thumbnail);
    // Closed, so the WAL is checkpointed into the database file that is grepped too.
    db.close();
    for (const bytes of await everyFileUnder(dir)) {
      expect(bytes.includes(canary)).toBe(false);
      expect(bytes.includes(Buffer.from('CANARY-thumbnail-4e2a'))).toBe(false);
    }
  });

  it('gives each file its own key: the same bytes twice are different ciphertexts', async () => {
    const data = Buffer.from('same bytes');
    const [a, b] = [await store.put(data, { mimeType: 'text/plain' }), await store.put(data, { mimeType: 'text/plain' })];
    const files = await readdir(attachmentsDir());
    expect(files.sort()).toEqual([`${a.id}.bin`, `${b.id}.bin`].sort());
    const rows = db.prepare<[], { file_key: Buffer }>('SELECT file_key FROM attachments').all();
    expect(rows[0]?.file_key.equals(rows[1]?.file_key ?? Buffer.alloc(0))).toBe(false);
    expect((await readFile(path.join(attachmentsDir(), `${a.id}.bin`))).equals(await readFile(path.join(attachmentsDir(), `${b.id}.bin`)))).toBe(false);
  });

  it('calls a truncated, altered or swapped file ATTACHMENT_CORRUPT', async () => {
    const a = await store.put(randomBytes(STREAM_CHUNK_BYTES + 10), { mimeType: 'application/octet-stream' });
    const b = await store.put(randomBytes(100), { mimeType: 'application/octet-stream' });
    const fileOf = (id: string): string => path.join(attachmentsDir(), `${id}.bin`);
    const original = await readFile(fileOf(a.id));

    await truncate(fileOf(a.id), STREAM_CHUNK_BYTES);
    expect(await codeOf(() => store.get(a.id))).toBe('ATTACHMENT_CORRUPT');

    const flipped = Buffer.from(original);
    flipped[flipped.length - 5] = (flipped[flipped.length - 5] ?? 0) ^ 1;
    await writeFile(fileOf(a.id), flipped);
    expect(await codeOf(() => store.get(a.id))).toBe('ATTACHMENT_CORRUPT');

    await writeFile(fileOf(a.id), await readFile(fileOf(b.id)));
    expect(await codeOf(() => store.get(a.id))).toBe('ATTACHMENT_CORRUPT');
  });

  it('deletes the file, the thumbnail and the key', async () => {
    const info = await store.put(randomBytes(10), { mimeType: 'image/jpeg', thumbnail: randomBytes(10) });
    await store.delete(info.id);
    expect(await readdir(attachmentsDir())).toEqual([]);
    expect(store.info(info.id)).toBeUndefined();
    expect(await codeOf(() => store.get(info.id))).toBe('ATTACHMENT_NOT_FOUND');
    expect(await codeOf(() => store.delete(info.id))).toBe('ATTACHMENT_NOT_FOUND');
    expect(await codeOf(() => store.get('../../etc/passwd'))).toBe('ATTACHMENT_NOT_FOUND');
  });
});
