import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, mkdirSync, readdirSync, rmSync, type ReadStream } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { finished, pipeline } from 'node:stream/promises';
import type Database from 'better-sqlite3-multiple-ciphers';

export const BLOB_DIR = 'blobs';
/** An upload in progress; renamed to its id once complete and fsynced. */
const PARTIAL_SUFFIX = '.partial';
/** Blob ids are 32 random bytes, base64url: unguessable, and safe as file names. */
const ID_PATTERN = /^[A-Za-z0-9_-]{43}$/;

/** too-large: over the per-blob cap; quota: over what the uploader has left of their quota. */
export type StoreBlobResult = { readonly ok: true; readonly id: string; readonly expiresAt: number } | { readonly ok: false; readonly reason: 'too-large' | 'quota' };

/** Who uploads, and how much they may: the blob's own cap and the uploader's quota over unexpired blobs. */
export interface BlobLimits {
  /** The uploader's keyed pseudonym. */
  readonly owner: Uint8Array;
  readonly maxBlobBytes: number;
  readonly quotaBytes: number;
}

export interface BlobInfo {
  readonly size: number;
  readonly expiresAt: number;
}

/** Thrown into the upload pipeline when a body passes the size cap. */
class BlobTooLarge extends Error {}

/** Encrypted attachment blobs: bytes in files under DATA/blobs, size and expiry in SQLite. */
export class BlobStore {
  private readonly dir: string;

  constructor(
    dataDir: string,
    private readonly db: Database.Database,
  ) {
    this.dir = join(dataDir, BLOB_DIR);
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    // Left by a relay that stopped mid-upload; no upload is in progress before the store opens.
    for (const name of readdirSync(this.dir)) if (name.endsWith(PARTIAL_SUFFIX)) rmSync(join(this.dir, name), { force: true });
  }

  /** Bytes of unexpired blobs the owner has stored. */
  used(owner: Uint8Array, now: number): number {
    return this.db.prepare<[Uint8Array, number], number>('SELECT coalesce(sum(size), 0) FROM blobs WHERE owner = ? AND expires_at > ?').pluck().get(owner, now) ?? 0;
  }

  /** The largest blob the owner may upload now: the per-blob cap, or less when their quota is nearly used. */
  allowance(limits: BlobLimits, now: number): { readonly bytes: number; readonly reason: 'too-large' | 'quota' } {
    const left = Math.max(0, limits.quotaBytes - this.used(limits.owner, now));
    return left < limits.maxBlobBytes ? { bytes: left, reason: 'quota' } : { bytes: limits.maxBlobBytes, reason: 'too-large' };
  }

  /** Stream body to disk (fsynced, then renamed into place), refusing it past the owner's allowance. */
  async put(body: Readable, limits: BlobLimits, now: number, ttlMs: number): Promise<StoreBlobResult> {
    const allowance = this.allowance(limits, now);
    const id = randomBytes(32).toString('base64url');
    const partial = join(this.dir, `${id}${PARTIAL_SUFFIX}`);
    const file = createWriteStream(partial, { mode: 0o600 });
    let size = 0;
    try {
      await pipeline(
        body,
        async function* (chunks: AsyncIterable<Buffer>) {
          for await (const chunk of chunks) {
            size += chunk.length;
            if (size > allowance.bytes) throw new BlobTooLarge();
            yield chunk;
          }
        },
        file,
      );
      const handle = await open(partial, 'r');
      try {
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(partial, join(this.dir, id));
    } catch (error) {
      // A pipeline rejects without waiting for its file stream to close, and that stream may still be creating the file.
      await finished(file).catch(() => undefined);
      await rm(partial, { force: true });
      if (error instanceof BlobTooLarge) return { ok: false, reason: allowance.reason };
      throw error;
    }
    // Checked again: uploads by the same user may have run side by side. This check and the insert share one turn.
    if (this.used(limits.owner, now) + size > limits.quotaBytes) {
      await rm(join(this.dir, id), { force: true });
      return { ok: false, reason: 'quota' };
    }
    const expiresAt = now + ttlMs;
    try {
      this.db.prepare('INSERT INTO blobs (id, size, created_at, expires_at, owner) VALUES (?, ?, ?, ?, ?)').run(id, size, now, expiresAt, limits.owner);
    } catch (error) {
      // A file without its row would never be served or purged.
      await rm(join(this.dir, id), { force: true });
      throw error;
    }
    return { ok: true, id, expiresAt };
  }

  /** The blob's size and expiry, or undefined if there is none (or it has expired). */
  info(id: string, now: number): BlobInfo | undefined {
    if (!ID_PATTERN.test(id)) return undefined;
    const row = this.db.prepare<[string, number], { size: number; expires_at: number }>('SELECT size, expires_at FROM blobs WHERE id = ? AND expires_at > ?').get(id, now);
    return row === undefined ? undefined : { size: row.size, expiresAt: row.expires_at };
  }

  read(id: string): ReadStream {
    return createReadStream(join(this.dir, id));
  }

  /** Delete expired blobs, rows and files; how many went. */
  purge(now: number): number {
    const expired = this.db.prepare<[number], string>('SELECT id FROM blobs WHERE expires_at <= ?').pluck().all(now);
    for (const id of expired) {
      rmSync(join(this.dir, id), { force: true });
      this.db.prepare('DELETE FROM blobs WHERE id = ?').run(id);
    }
    return expired.length;
  }
}
