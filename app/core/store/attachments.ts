import { mkdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { ParleyError } from '../../shared/errors.js';
import { writeFileAtomic } from '../fs/atomic-write.js';
import { toHex, utf8 } from '../crypto/bytes.js';
import { randomBytes } from '../crypto/random.js';
import { openStream, sealStream } from '../crypto/secretstream.js';
import type { Sodium } from '../crypto/sodium.js';
import type { Db } from './db.js';

export interface AttachmentInfo {
  id: string;
  size: number;
  mimeType: string;
  hasThumbnail: boolean;
  createdAt: number;
}

interface AttachmentRow {
  id: string;
  file_key: Uint8Array;
  thumb_key: Uint8Array | null;
  size: number;
  mime_type: string;
  created_at: number;
}

type Part = 'file' | 'thumbnail';

const ID_PATTERN = /^[0-9a-f]{32}$/;
const notFound = (): ParleyError => new ParleyError('ATTACHMENT_NOT_FOUND', 'There is no such attachment');

/**
 * Attachments at rest: each file (and its thumbnail) encrypted with a key of its own as a secretstream,
 * under the profile's attachments folder. The keys live in the encrypted database; the folder holds ciphertext only.
 */
export class AttachmentStore {
  constructor(
    private readonly sodium: Sodium,
    private readonly db: Db,
    private readonly dir: string,
  ) {}

  async put(data: Uint8Array, options: { mimeType: string; thumbnail?: Uint8Array }): Promise<AttachmentInfo> {
    const id = toHex(randomBytes(16));
    const fileKey = randomBytes(32);
    const thumbKey = options.thumbnail === undefined ? null : randomBytes(32);
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    try {
      await writeFileAtomic(this.#path(id, 'file'), sealStream(this.sodium, fileKey, data, this.#ad(id, 'file')));
      if (options.thumbnail !== undefined && thumbKey !== null) {
        await writeFileAtomic(this.#path(id, 'thumbnail'), sealStream(this.sodium, thumbKey, options.thumbnail, this.#ad(id, 'thumbnail')));
      }
      const createdAt = Date.now();
      this.db
        .prepare('INSERT INTO attachments (id, file_key, thumb_key, size, mime_type, created_at) VALUES (?, ?, ?, ?, ?, ?)')
        .run(id, fileKey, thumbKey, data.length, options.mimeType, createdAt);
      return { id, size: data.length, mimeType: options.mimeType, hasThumbnail: thumbKey !== null, createdAt };
    } catch (error) {
      await this.#removeFiles(id);
      throw error;
    } finally {
      this.sodium.memzero(fileKey);
      if (thumbKey !== null) this.sodium.memzero(thumbKey);
    }
  }

  info(id: string): AttachmentInfo | undefined {
    const row = this.#row(id);
    return row === undefined
      ? undefined
      : { id: row.id, size: row.size, mimeType: row.mime_type, hasThumbnail: row.thumb_key !== null, createdAt: row.created_at };
  }

  /** The decrypted file; ATTACHMENT_NOT_FOUND, or ATTACHMENT_CORRUPT when the file was altered, swapped or cut short. */
  get(id: string): Promise<Uint8Array> {
    return this.#read(id, 'file');
  }

  getThumbnail(id: string): Promise<Uint8Array> {
    return this.#read(id, 'thumbnail');
  }

  /** Remove the files first, then the keys: a crash in between leaves a key without a file, never a file without a key. */
  async delete(id: string): Promise<void> {
    if (this.#row(id) === undefined) throw notFound();
    await this.#removeFiles(id);
    this.db.prepare('DELETE FROM attachments WHERE id = ?').run(id);
  }

  async #read(id: string, part: Part): Promise<Uint8Array> {
    const row = this.#row(id);
    const key = part === 'file' ? row?.file_key : row?.thumb_key;
    if (row === undefined || key === null || key === undefined) throw notFound();
    let sealed: Uint8Array;
    try {
      sealed = await readFile(this.#path(id, part));
    } catch {
      throw new ParleyError('ATTACHMENT_CORRUPT', 'The attachment file is missing');
    }
    try {
      return openStream(this.sodium, Uint8Array.from(key), sealed, this.#ad(id, part));
    } catch {
      throw new ParleyError('ATTACHMENT_CORRUPT', 'The attachment file is damaged');
    }
  }

  #row(id: string): AttachmentRow | undefined {
    if (!ID_PATTERN.test(id)) return undefined;
    return this.db.prepare<[string], AttachmentRow>('SELECT * FROM attachments WHERE id = ?').get(id);
  }

  /** Binds each ciphertext to its id and role, so files cannot be swapped between attachments. */
  #ad(id: string, part: Part): Uint8Array {
    return utf8.encode(`parley-attachment-v1|${id}|${part}`);
  }

  #path(id: string, part: Part): string {
    return path.join(this.dir, part === 'file' ? `${id}.bin` : `${id}.thumb`);
  }

  async #removeFiles(id: string): Promise<void> {
    await Promise.all([this.#path(id, 'file'), this.#path(id, 'thumbnail')].flatMap((file) => [rm(file, { force: true }), rm(`${file}.tmp`, { force: true })]));
  }
}
