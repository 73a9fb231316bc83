import { concatBytes } from './bytes.js';
import type { Sodium } from './sodium.js';

/** Plaintext bytes per secretstream message: large enough to be fast, small enough to bound memory per chunk. */
export const STREAM_CHUNK_BYTES = 64 * 1024;

export class StreamError extends Error {
  override readonly name = 'StreamError';
}

type PushState = ReturnType<Sodium['crypto_secretstream_xchacha20poly1305_init_push']>['state'];

/**
 * A secretstream written in pieces: whatever the pieces, the chunks and tags are those sealStream makes for
 * the same bytes (full chunks, the last one FINAL), so openStream reads either. Holds one chunk of plaintext.
 */
export class StreamSealer {
  readonly header: Uint8Array;
  readonly #sodium: Sodium;
  readonly #state: PushState;
  readonly #ad: Uint8Array;
  readonly #chunk = new Uint8Array(STREAM_CHUNK_BYTES);
  #filled = 0;
  #finished = false;

  /** The key is copied into libsodium's state; the caller may wipe its copy at once. */
  constructor(sodium: Sodium, key: Uint8Array, ad: Uint8Array) {
    const { state, header } = sodium.crypto_secretstream_xchacha20poly1305_init_push(key);
    this.#sodium = sodium;
    this.#state = state;
    this.#ad = ad;
    this.header = header;
  }

  /** Sealed chunks that are complete; a full chunk waits until more bytes show it is not the last. */
  push(bytes: Uint8Array): Uint8Array[] {
    if (this.#finished) throw new StreamError('push after the final chunk');
    const sealed: Uint8Array[] = [];
    let offset = 0;
    while (offset < bytes.length) {
      if (this.#filled === STREAM_CHUNK_BYTES) sealed.push(this.#seal(this.#sodium.crypto_secretstream_xchacha20poly1305_TAG_MESSAGE));
      const take = Math.min(STREAM_CHUNK_BYTES - this.#filled, bytes.length - offset);
      this.#chunk.set(bytes.subarray(offset, offset + take), this.#filled);
      this.#filled += take;
      offset += take;
    }
    return sealed;
  }

  /** The last chunk, tagged FINAL (empty if nothing was pushed), so a truncated stream is detected. */
  final(): Uint8Array {
    if (this.#finished) throw new StreamError('already final');
    const last = this.#seal(this.#sodium.crypto_secretstream_xchacha20poly1305_TAG_FINAL);
    this.#finished = true;
    this.#chunk.fill(0);
    return last;
  }

  #seal(tag: number): Uint8Array {
    const sealed = this.#sodium.crypto_secretstream_xchacha20poly1305_push(this.#state, this.#chunk.subarray(0, this.#filled), this.#ad, tag);
    this.#filled = 0;
    return sealed;
  }
}

/**
 * Encrypt bytes as a libsodium secretstream (XChaCha20-Poly1305): header, then chunks, the last tagged FINAL.
 * Every chunk carries `ad`, which binds the stream to what it belongs to (an attachment id, a backup header).
 */
export function sealStream(sodium: Sodium, key: Uint8Array, plaintext: Uint8Array, ad: Uint8Array): Uint8Array {
  const sealer = new StreamSealer(sodium, key, ad);
  return concatBytes([sealer.header, ...sealer.push(plaintext), sealer.final()]);
}

/** Decrypt what sealStream produced; StreamError when a chunk fails, data follows FINAL, or FINAL never comes (truncation). */
export function openStream(sodium: Sodium, key: Uint8Array, sealed: Uint8Array, ad: Uint8Array): Uint8Array {
  const headerBytes = sodium.crypto_secretstream_xchacha20poly1305_HEADERBYTES;
  const chunkBytes = STREAM_CHUNK_BYTES + sodium.crypto_secretstream_xchacha20poly1305_ABYTES;
  if (sealed.length < headerBytes + sodium.crypto_secretstream_xchacha20poly1305_ABYTES) throw new StreamError('too short');
  let state;
  try {
    state = sodium.crypto_secretstream_xchacha20poly1305_init_pull(sealed.subarray(0, headerBytes), key);
  } catch {
    throw new StreamError('bad header');
  }
  const parts: Uint8Array[] = [];
  let offset = headerBytes;
  let final = false;
  while (offset < sealed.length) {
    if (final) throw new StreamError('data after the final chunk');
    const end = Math.min(offset + chunkBytes, sealed.length);
    // The wasm build returns false for a forged chunk; older builds throw.
    let pulled: { message: Uint8Array; tag: number } | false;
    try {
      pulled = sodium.crypto_secretstream_xchacha20poly1305_pull(state, sealed.subarray(offset, end), ad) as { message: Uint8Array; tag: number } | false;
    } catch {
      throw new StreamError('chunk failed authentication');
    }
    if (pulled === false || !(pulled.message instanceof Uint8Array)) throw new StreamError('chunk failed authentication');
    parts.push(pulled.message);
    final = pulled.tag === sodium.crypto_secretstream_xchacha20poly1305_TAG_FINAL;
    offset = end;
  }
  if (!final) throw new StreamError('truncated');
  return concatBytes(parts);
}
