import { describe, expect, it } from 'vitest';
import { MAX_FRAME_BYTES, decodeFrame, encodeFrame, type ServerFrame } from '../../relay/protocol/index.js';
import { binaryFrame } from '../../relay/src/ws-frame.js';
import { clientReceiver } from '../support/ws-receiver.js';

/** A DELIVER whose encoding is exactly `length` bytes. */
function deliverOf(length: number): ServerFrame {
  const base: ServerFrame = { name: 'DELIVER', requestId: 0, messageId: new Uint8Array(16).fill(7), envelope: new Uint8Array(0), receivedAt: 1_700_000_000_000 };
  const overhead = encodeFrame(base).length;
  return { ...base, envelope: new Uint8Array(length - overhead).map((_, i) => i % 251) };
}

/** What ws, reading as a client, makes of the bytes: each message with whether it was binary. */
function readByWs(bytes: Uint8Array): { messages: Array<{ data: Buffer; isBinary: boolean }>; errors: Error[] } {
  const messages: Array<{ data: Buffer; isBinary: boolean }> = [];
  const errors: Error[] = [];
  const receiver = clientReceiver();
  receiver.on('message', (data, isBinary) => void messages.push({ data, isBinary }));
  receiver.on('error', (error) => void errors.push(error));
  receiver.write(bytes);
  return { messages, errors };
}

describe('relay WebSocket framing', () => {
  // Each side of the two boundaries where the length field grows (RFC 6455 section 5.2), and the largest frame.
  const lengths = [60, 125, 126, 127, 65_535, 65_536, 65_537, MAX_FRAME_BYTES];

  it.each(lengths)('writes a %i-byte frame as one binary message ws reads back whole', (length) => {
    const frame = deliverOf(length);
    const bytes = binaryFrame(frame);
    const { messages, errors } = readByWs(bytes);
    expect(errors).toEqual([]);
    expect(messages).toHaveLength(1);
    expect(messages[0]?.isBinary).toBe(true);
    // The codec's own encoding, byte for byte (compared as buffers: a deep equal of 256 KiB takes most of a second).
    expect(messages[0]?.data.equals(encodeFrame(frame))).toBe(true);
  });

  it('uses the shortest length field, so ws reads frames written back to back one by one', () => {
    const headers = lengths.map((length) => binaryFrame(deliverOf(length)).length - length);
    expect(headers).toEqual([2, 2, 4, 4, 4, 10, 10, 10]);
    const frames = [deliverOf(125), deliverOf(126), deliverOf(1_000)];
    const { messages } = readByWs(Buffer.concat(frames.map((frame) => binaryFrame(frame))));
    expect(messages.map(({ data }) => decodeFrame(new Uint8Array(data)))).toEqual(frames);
  });

  it('refuses a frame over the limit, as encodeFrame does', () => {
    expect(() => binaryFrame(deliverOf(200), 100)).toThrow(expect.objectContaining({ code: 'PROTO_FRAME_TOO_LARGE' }));
  });
});
