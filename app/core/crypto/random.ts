import { randomBytes as nodeRandomBytes } from 'node:crypto';

/** Random bytes from Node's CSPRNG (libsodium's randombytes_buf is slow in the wasm build). */
export function randomBytes(length: number): Uint8Array {
  return Uint8Array.from(nodeRandomBytes(length));
}
