import { concatBytes } from './bytes.js';
import type { Sodium } from './sodium.js';

/** Plaintext bytes per secretstream message: large enough to be fast, small enough to bound memory per chunk. */
export const STREAM_CHUNK_BYTES = 64 * 1024;

export class StreamError extends Error {
  override readonly name = 'StreamError';
}

/**
 * Encrypt bytes as a libsodium secretstream (XChaCha20-Poly1305): header, then chunks, the last tagged FINAL.
 * Every chunk carries `ad`, which binds the stream to what it belongs to (an attachment id, a backup header).
 */
export function sealStream(sodium: Sodium, key: Uint8Array, plaintext: Uint8Array, ad: Uint8Array): Uint8Array {
  const { state, header } = sodium.crypto_secretstream_xchacha20poly1305_init_push(key);
  const parts: Uint8Array[] = [header];
  let offset = 0;
  do {
    const end = Math.min(offset + STREAM_CHUNK_BYTES, plaintext.length);
    const tag = end === plaintext.length ? sodium.crypto_secretstream_xchacha20poly1305_TAG_FINAL : sodium.crypto_secretstream_xchacha20poly1305_TAG_MESSAGE;
    parts.push(sodium.crypto_secretstream_xchacha20poly1305_push(state, plaintext.subarray(offset, end), ad, tag));
    offset = end;
  } while (offset < plaintext.length);
  return concatBytes(parts);
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
