/** A WebSocket frame as a client may send it, odd ones included (RFC 6455 section 5.2). */
export interface ClientWsFrame {
  /** The first byte: FIN, the reserved bits and the opcode. */
  readonly first: number;
  readonly payload: Uint8Array;
  /** Masked, as a client's frames must be, unless false. */
  readonly masked?: boolean;
  /** Write the length in the 64-bit form, whatever it is. */
  readonly longLength?: boolean;
}

/** FIN and opcode 2: a whole binary message. */
export const FINAL_BINARY = 0x82;
/** FIN and opcode 10: a pong. */
export const FINAL_PONG = 0x8a;

const KEY = [0x37, 0xfa, 0x21, 0x3d];

/** The frame's bytes, masked with a fixed key unless told not to. */
export function clientFrameBytes({ first, payload, masked = true, longLength = false }: ClientWsFrame): Buffer {
  const length = payload.length;
  const lengthBytes = longLength ? 8 : length < 126 ? 0 : length < 0x10000 ? 2 : 8;
  const header = Buffer.alloc(2 + lengthBytes + (masked ? 4 : 0));
  header[0] = first;
  header[1] = (masked ? 0x80 : 0) | (lengthBytes === 0 ? length : lengthBytes === 2 ? 126 : 127);
  if (lengthBytes === 2) header.writeUInt16BE(length, 2);
  if (lengthBytes === 8) header.writeBigUInt64BE(BigInt(length), 2);
  if (masked) header.set(KEY, 2 + lengthBytes);
  const body = Buffer.from(payload);
  if (masked) for (let i = 0; i < body.length; i++) body[i] = (body[i] as number) ^ (KEY[i & 3] as number);
  return Buffer.concat([header, body]);
}

/** The bytes split at the given offsets (any order, repeats and out-of-range ones allowed) into non-empty reads. */
export function splitAt(bytes: Buffer, offsets: readonly number[]): Buffer[] {
  const edges = [...new Set(offsets.map((offset) => Math.min(Math.max(offset, 0), bytes.length))), bytes.length].sort((a, b) => a - b);
  return edges.map((edge, i) => bytes.subarray(i === 0 ? 0 : edges[i - 1], edge)).filter((chunk) => chunk.length > 0);
}
