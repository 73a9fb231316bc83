import { MAX_FRAME_BYTES, encodeFrame, type ServerFrame } from '../protocol/index.js';

/** FIN set, opcode 2 (binary): every frame the relay sends is one whole binary message. */
const FINAL_BINARY = 0x82;

/** The header of an unmasked frame carrying `length` bytes (RFC 6455 section 5.2). */
function headerBytes(length: number): number {
  return length < 126 ? 2 : length < 0x10000 ? 4 : 10;
}

/** The buffer being filled: encodeFrame's allocate() makes it, binaryFrame() takes it (one at a time, synchronously). */
let whole: Buffer = Buffer.alloc(0);

function allocateAfterHeader(length: number): Uint8Array {
  const start = headerBytes(length);
  const buffer = Buffer.allocUnsafe(start + length);
  buffer[0] = FINAL_BINARY;
  if (start === 2) buffer[1] = length;
  else if (start === 4) {
    buffer[1] = 126;
    buffer.writeUInt16BE(length, 2);
  } else {
    buffer[1] = 127;
    buffer.writeUInt32BE(Math.floor(length / 0x100000000), 2);
    buffer.writeUInt32BE(length >>> 0, 6);
  }
  whole = buffer;
  // A plain view: a Buffer's subarray() goes through its species constructor.
  return new Uint8Array(buffer.buffer, buffer.byteOffset + start, length);
}

/**
 * A server frame as one final, unmasked binary WebSocket frame: header and payload in one buffer, so it is one plain
 * write to the socket. ws's send() frames the same bytes as a header and a payload apart, which the socket then
 * gathers into a writev through its buffering, at several allocations a frame.
 */
export function binaryFrame(frame: ServerFrame, maxBytes: number = MAX_FRAME_BYTES): Buffer {
  encodeFrame(frame, maxBytes, allocateAfterHeader);
  return whole;
}
