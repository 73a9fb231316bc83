import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../../relay/src/store/sqlite.js';
import type { RelayStore } from '../../relay/src/store/ports.js';

const dirs: string[] = [];
const stores: RelayStore[] = [];

afterEach(async () => {
  for (const store of stores.splice(0)) store.close();
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

async function dataDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'parley-blob-store-'));
  dirs.push(dir);
  return dir;
}

function open(dir: string): RelayStore {
  const store = openSqliteStore(dir);
  stores.push(store);
  return store;
}

const limits = { owner: Uint8Array.of(1, 2, 3), maxBlobBytes: 1_000, quotaBytes: 1_000 };

describe('relay blob store', () => {
  it('leaves no partial file behind when bodies pass the cap before the file system has answered', async () => {
    const dir = await dataDir();
    const store = open(dir);
    // Chunks already at hand pass the cap within a few microtasks, while the file's open may still be in flight.
    const refused = await Promise.all(
      Array.from({ length: 200 }, () => store.blobs.put(Readable.from([Buffer.alloc(600), Buffer.alloc(600)]), limits, Date.now(), 60_000)),
    );
    expect(refused.every((result) => !result.ok && result.reason === 'too-large')).toBe(true);
    expect(await readdir(join(dir, 'blobs'))).toEqual([]);
    // A stored blob after them: its file operations queue behind any of theirs still running.
    const stored = await store.blobs.put(Readable.from([Buffer.alloc(10)]), limits, Date.now(), 60_000);
    if (!stored.ok) throw new Error(`expected the blob stored, got ${stored.reason}`);
    expect(await readdir(join(dir, 'blobs'))).toEqual([stored.id]);
  });

  it('removes uploads a stopped relay left unfinished when it opens again, and keeps stored blobs', async () => {
    const dir = await dataDir();
    const first = open(dir);
    const stored = await first.blobs.put(Readable.from([Buffer.from('kept')]), limits, Date.now(), 60_000);
    if (!stored.ok) throw new Error(`expected the blob stored, got ${stored.reason}`);
    first.close();
    stores.splice(stores.indexOf(first), 1);
    await writeFile(join(dir, 'blobs', `${'x'.repeat(43)}.partial`), 'cut off mid-upload');

    const reopened = open(dir);
    expect(await readdir(join(dir, 'blobs'))).toEqual([stored.id]);
    expect(reopened.blobs.info(stored.id, Date.now())).toMatchObject({ size: 4 });
  });
});
