import { X25519_BYTES } from './x25519.js';

/** Header of a ratchet message: sender ratchet public key, previous chain length, message number. */
export interface RatchetHeader {
  readonly dh: Uint8Array;
  readonly pn: number;
  readonly n: number;
}

export const HEADER_BYTES = X25519_BYTES + 4 + 4;

export function encodeHeader(header: RatchetHeader): Uint8Array {
  const out = new Uint8Array(HEADER_BYTES);
  out.set(header.dh);
  const view = new DataView(out.buffer);
  view.setUint32(X25519_BYTES, header.pn);
  view.setUint32(X25519_BYTES + 4, header.n);
  return out;
}

/** The header at the start of a message, or undefined when the message is too short to hold one. */
export function decodeHeader(message: Uint8Array): RatchetHeader | undefined {
  if (message.length < HEADER_BYTES) return undefined;
  const view = new DataView(message.buffer, message.byteOffset, message.byteLength);
  return { dh: message.slice(0, X25519_BYTES), pn: view.getUint32(X25519_BYTES), n: view.getUint32(X25519_BYTES + 4) };
}
