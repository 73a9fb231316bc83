import { MAX_ACKS_PER_FRAME, MESSAGE_ID_BYTES } from './limits.js';

/** The messageIds field of ACKS: the ids one after another. */
export function encodeMessageIds(ids: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(ids.length * MESSAGE_ID_BYTES);
  ids.forEach((id, i) => {
    if (id.length !== MESSAGE_ID_BYTES) throw new RangeError(`a message id is ${MESSAGE_ID_BYTES} bytes`);
    out.set(id, i * MESSAGE_ID_BYTES);
  });
  return out;
}

/** The ids (views into bytes), or undefined unless bytes hold 1 to MAX_ACKS_PER_FRAME whole ids. */
export function decodeMessageIds(bytes: Uint8Array): Uint8Array[] | undefined {
  const count = bytes.length / MESSAGE_ID_BYTES;
  if (!Number.isInteger(count) || count < 1 || count > MAX_ACKS_PER_FRAME) return undefined;
  return Array.from({ length: count }, (_, i) => bytes.subarray(i * MESSAGE_ID_BYTES, (i + 1) * MESSAGE_ID_BYTES));
}

/**
 * The requestIds field of OKS: u32 ids, big-endian, one after another. `allocate` as for encodeFrame: every byte is
 * written, so a server may pass Node's pooled Buffer.allocUnsafe.
 */
export function encodeRequestIds(ids: readonly number[], allocate: (size: number) => Uint8Array = (size) => new Uint8Array(size)): Uint8Array {
  const out = allocate(ids.length * 4);
  for (let i = 0, at = 0; i < ids.length; i++, at += 4) {
    const id = ids[i] as number;
    out[at] = id >>> 24;
    out[at + 1] = (id >>> 16) & 0xff;
    out[at + 2] = (id >>> 8) & 0xff;
    out[at + 3] = id & 0xff;
  }
  return out;
}

/** The ids, or undefined unless bytes hold a whole number of them, at least one. */
export function decodeRequestIds(bytes: Uint8Array): number[] | undefined {
  const count = bytes.length / 4;
  if (!Number.isInteger(count) || count < 1) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Array.from({ length: count }, (_, i) => view.getUint32(i * 4));
}
