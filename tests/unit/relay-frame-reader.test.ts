import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { readFramesDirectly, unmaskedCopy } from '../../relay/src/frame-reader.js';
import { FINAL_BINARY, FINAL_PONG, clientFrameBytes, splitAt, type ClientWsFrame } from '../support/client-frames.js';

const MAX_PAYLOAD = 70_000;
/** Under 65,536, so a frame over it still has a 16-bit length. */
const SHORT_MAX_PAYLOAD = 1_000;

const rethrow = (error: unknown): never => {
  throw error;
};

const binary = (payload: Uint8Array): ClientWsFrame => ({ first: FINAL_BINARY, payload });
const pong = (payload: Uint8Array): ClientWsFrame => ({ first: FINAL_PONG, payload });

/** The bytes cut at the given points (any order, repeats allowed) into the chunks a socket could read them in. */
const cut = (bytes: Buffer, points: readonly number[]): Buffer[] => splitAt(bytes, points.map((p) => p % (bytes.length + 1)));

/**
 * A socket with ws's 'data' listener on it (recording what ws would have read), taken over by the reader. Neither
 * copies what it is given, and `read()` hands the reader each chunk as a relay's socket does (shared-read-buffer.ts):
 * a view of one buffer that the next read overwrites; so whatever is kept of a read must have been copied.
 */
function readingSocket(maxPayload = MAX_PAYLOAD): {
  socket: PassThrough;
  read: (chunks: readonly Buffer[]) => void;
  messages: Buffer[];
  pongs: () => number;
  wsRead: Buffer[];
  wsOnData: (chunk: Buffer) => void;
} {
  const socket = new PassThrough();
  const wsRead: Buffer[] = [];
  const wsOnData = (chunk: Buffer): void => void wsRead.push(chunk);
  socket.on('data', wsOnData);
  const read = (chunks: readonly Buffer[]): void => {
    const shared = Buffer.alloc(Math.max(0, ...chunks.map((chunk) => chunk.length)));
    for (const chunk of chunks) {
      // Once ws reads the socket again, Node copies each read for it, as without the shared buffer.
      if (socket.listeners('data').includes(wsOnData)) {
        socket.emit('data', Buffer.from(chunk));
        continue;
      }
      chunk.copy(shared);
      socket.emit('data', shared.subarray(0, chunk.length));
      shared.fill(0xee, 0, chunk.length);
    }
  };
  const messages: Buffer[] = [];
  let pongs = 0;
  const taken = readFramesDirectly(socket, maxPayload, {
    received: (data, isBinary) => {
      expect(isBinary).toBe(true);
      messages.push(Buffer.from(data.buffer, data.byteOffset, data.length));
    },
    ponged: () => void (pongs += 1),
    readFailed: rethrow,
  });
  expect(taken).toBe(true);
  return { socket, read, messages, pongs: () => pongs, wsRead, wsOnData };
}

// Bytes from a seed: random bytes of 64 KiB each are slow for fast-check to draw, and any pattern shows a misplaced one.
const payloadOf = (lengths: fc.Arbitrary<number>): fc.Arbitrary<Uint8Array> =>
  fc.tuple(lengths, fc.nat(255)).map(([length, seed]) => Uint8Array.from({ length }, (_, i) => (seed + i * 31) & 0xff));
// Around each boundary where the length field grows, and short ones.
const binaryLength = fc.oneof({ arbitrary: fc.nat(300), weight: 6 }, { arbitrary: fc.integer({ min: 120, max: 130 }), weight: 3 }, { arbitrary: fc.integer({ min: 65_530, max: 65_535 }), weight: 1 });
const steadyFrame = fc.oneof(payloadOf(binaryLength).map(binary), payloadOf(fc.nat(125)).map(pong));
const shortFrame = fc.oneof(payloadOf(fc.nat(300)).map(binary), payloadOf(fc.nat(125)).map(pong));

describe('the frame reader', () => {
  it('hands on every binary message and pong whole and in order, however the bytes are cut into reads', () => {
    fc.assert(
      fc.property(fc.array(steadyFrame, { maxLength: 8 }), fc.array(fc.nat(), { maxLength: 12 }), (frames, points) => {
        const { read, messages, pongs, wsRead } = readingSocket();
        read(cut(Buffer.concat(frames.map(clientFrameBytes)), points));
        const sent = frames.filter((f) => f.first === FINAL_BINARY).map((f) => Buffer.from(f.payload));
        // Lengths, then bytes: vitest compares long buffers a byte at a time.
        expect(messages.map((m) => m.length)).toEqual(sent.map((m) => m.length));
        expect(Buffer.concat(messages).equals(Buffer.concat(sent))).toBe(true);
        expect(pongs()).toBe(frames.filter((f) => f.first === FINAL_PONG).length);
        expect(wsRead).toEqual([]);
      }),
      { numRuns: 60 },
    );
  });

  it('reads the longest frame with a 16-bit length sent a byte at a time', () => {
    const { read, messages, wsRead } = readingSocket();
    const payload = Uint8Array.from({ length: 65_535 }, (_, i) => i % 253);
    const bytes = clientFrameBytes(binary(payload));
    read(Array.from({ length: bytes.length }, (_, i) => bytes.subarray(i, i + 1)));
    expect(messages).toHaveLength(1);
    expect(messages[0]?.equals(payload)).toBe(true);
    expect(wsRead).toEqual([]);
  });

  it('holds memory for the bytes a client has sent of a frame, not for the length its header claims', () => {
    const sockets = Array.from({ length: 500 }, () => readingSocket().socket);
    const before = process.memoryUsage().arrayBuffers;
    // Each claims 65,535 bytes and sends its mask and ten.
    const start = clientFrameBytes(binary(new Uint8Array(65_535))).subarray(0, 18);
    for (const socket of sockets) socket.emit('data', Buffer.from(start));
    const held = process.memoryUsage().arrayBuffers - before;
    // The first buffer each is 1 KiB; the frames' full length would be 32 MB.
    expect(held).toBeLessThan(sockets.length * 4096);
  });

  // Each a frame ws answers (a ping), reassembles (a fragment), or refuses as RFC 6455 says (the rest).
  const leftToWs: ReadonlyArray<readonly [string, ClientWsFrame]> = [
    ['a ping', { first: 0x89, payload: Uint8Array.of(1, 2) }],
    ['a close', { first: 0x88, payload: Uint8Array.of(0x03, 0xe8) }],
    ['a text frame', { first: 0x81, payload: new TextEncoder().encode('hello') }],
    ['the first fragment of a message', { first: 0x02, payload: Uint8Array.of(1) }],
    ['a continuation frame', { first: 0x80, payload: Uint8Array.of(1) }],
    ['a reserved bit', { first: 0xc2, payload: Uint8Array.of(1) }],
    ['a reserved opcode', { first: 0x83, payload: Uint8Array.of(1) }],
    ['an unmasked frame', { first: FINAL_BINARY, payload: Uint8Array.of(1), masked: false }],
    ['a 64-bit length', { first: FINAL_BINARY, payload: Uint8Array.of(1), longLength: true }],
    ['a frame over maxPayload', { first: FINAL_BINARY, payload: new Uint8Array(SHORT_MAX_PAYLOAD + 1) }],
    ['a pong over 125 bytes', { first: FINAL_PONG, payload: new Uint8Array(126) }],
  ];

  it.each(leftToWs)('hands %s, and everything after it, back to ws', (_label, foreign) => {
    fc.assert(
      fc.property(fc.array(shortFrame, { maxLength: 3 }), fc.array(shortFrame, { maxLength: 3 }), fc.array(fc.nat(), { maxLength: 6 }), (before, after, points) => {
        const { socket, read, messages, pongs, wsRead, wsOnData } = readingSocket(SHORT_MAX_PAYLOAD);
        const head = Buffer.concat(before.map(clientFrameBytes));
        const rest = Buffer.concat([clientFrameBytes(foreign), ...after.map(clientFrameBytes)]);
        read([...cut(Buffer.concat([head, rest]), points), Buffer.from('later')]);
        expect(messages).toEqual(before.filter((f) => f.first === FINAL_BINARY).map((f) => Buffer.from(f.payload)));
        expect(pongs()).toBe(before.filter((f) => f.first === FINAL_PONG).length);
        expect(Buffer.concat(wsRead)).toEqual(Buffer.concat([rest, Buffer.from('later')]));
        expect(socket.listeners('data')).toEqual([wsOnData]);
      }),
      { numRuns: 25 },
    );
  });

  it('reads what a paused socket still holds when it closes, ahead of ws, and drops a frame left incomplete', async () => {
    const socket = new PassThrough();
    socket.on('data', () => undefined);
    let heldAtWsClose = -1;
    // ws's own 'close' listener reads whatever the socket still holds into its receiver.
    socket.on('close', () => (heldAtWsClose = socket.readableLength));
    const messages: Buffer[] = [];
    expect(readFramesDirectly(socket, MAX_PAYLOAD, { received: (data) => void messages.push(Buffer.from(data)), ponged: () => undefined, readFailed: rethrow })).toBe(true);
    socket.pause();
    const whole = clientFrameBytes(binary(Uint8Array.of(4, 5, 6)));
    const incomplete = clientFrameBytes(binary(new Uint8Array(200))).subarray(0, 100);
    socket.write(Buffer.concat([whole, incomplete]));
    socket.destroy();
    await once(socket, 'close');
    expect(messages).toEqual([Buffer.from([4, 5, 6])]);
    expect(heldAtWsClose).toBe(0);
  });

  it('takes over from the ws of this install on a real connection: messages and pongs come through the reader, a text frame hands it back', async () => {
    const server = new WebSocketServer({ host: '127.0.0.1', port: 0, maxPayload: MAX_PAYLOAD });
    await once(server, 'listening');
    const got: string[] = [];
    let wsCount = 0;
    let wsHeard: { count: number; resolve: () => void } | undefined;
    /** Resolves once ws has handed on `count` messages in all. */
    const untilWsHeard = (count: number): Promise<void> =>
      wsCount >= count ? Promise.resolve() : new Promise((resolve) => (wsHeard = { count, resolve }));
    const heard = new Promise<void>((resolve) => {
      server.on('connection', (socket, request) => {
        socket.on('message', (data, isBinary) => {
          got.push(`from ws: ${String(data)}, binary ${isBinary}`);
          wsCount += 1;
          if (wsHeard !== undefined && wsCount >= wsHeard.count) wsHeard.resolve();
        });
        const taken = readFramesDirectly(request.socket, MAX_PAYLOAD, {
          received: (data) => {
            got.push(Buffer.from(data).toString());
            resolve();
          },
          ponged: () => got.push('pong'),
          readFailed: rethrow,
        });
        got.push(`taken: ${taken}`);
        socket.ping();
      });
    });
    const client = new WebSocket(`ws://127.0.0.1:${(server.address() as AddressInfo).port}`);
    await once(client, 'ping');
    client.send(Buffer.from('hello'));
    await heard;
    // A text frame is ws's to read: the reader hands it the socket, and ws reads on.
    client.send('in text');
    client.send(Buffer.from('after'));
    await untilWsHeard(2);
    // Read on its own, once ws reads the socket again.
    client.send(Buffer.from('later'));
    await untilWsHeard(3);
    expect(got).toEqual(['taken: true', 'pong', 'hello', 'from ws: in text, binary false', 'from ws: after, binary true', 'from ws: later, binary true']);
    client.terminate();
    server.close();
  });

  it('stops reading a socket whose listener throws, and reports the error instead of throwing it out of the socket', () => {
    const socket = new PassThrough();
    const wsRead: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => void wsRead.push(chunk));
    const failures: unknown[] = [];
    const fault = new Error('a fault of the listener');
    let received = 0;
    readFramesDirectly(socket, MAX_PAYLOAD, {
      received: () => {
        received += 1;
        throw fault;
      },
      ponged: () => undefined,
      readFailed: (error) => void failures.push(error),
    });
    const frame = clientFrameBytes(binary(Uint8Array.of(1)));
    expect(() => socket.emit('data', Buffer.concat([frame, frame]))).not.toThrow();
    socket.emit('data', frame);
    expect(received).toBe(1);
    expect(failures).toEqual([fault]);
    expect(socket.listeners('data')).toHaveLength(0);
    expect(wsRead).toEqual([]);
  });

  it('does the same for a TCP socket reading into the shared buffer, where no stream stands between the read and the listener', async () => {
    const server = createServer({ pauseOnConnect: true });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const client = connect((server.address() as AddressInfo).port, '127.0.0.1');
    const [accepted] = (await once(server, 'connection')) as [Socket];
    accepted.on('data', () => undefined);
    const fault = new Error('a fault of the listener');
    let received = 0;
    const failed = new Promise<unknown>((resolve) =>
      readFramesDirectly(accepted, MAX_PAYLOAD, {
        received: () => {
          received += 1;
          throw fault;
        },
        ponged: () => undefined,
        readFailed: resolve,
      }),
    );
    accepted.resume();
    const frame = clientFrameBytes(binary(Uint8Array.of(1)));
    client.write(Buffer.concat([frame, frame]));
    expect(await failed).toBe(fault);
    expect(received).toBe(1);
    expect(accepted.listeners('data')).toHaveLength(0);
    client.destroy();
    accepted.destroy();
    await new Promise((resolve) => server.close(resolve));
  });

  it("leaves ws reading when the socket's 'data' listeners are not ws's one", () => {
    const listener = { received: () => undefined, ponged: () => undefined, readFailed: rethrow };
    expect(readFramesDirectly(new PassThrough(), MAX_PAYLOAD, listener)).toBe(false);
    const twice = new PassThrough();
    const first = (): void => undefined;
    const second = (): void => undefined;
    twice.on('data', first).on('data', second);
    expect(readFramesDirectly(twice, MAX_PAYLOAD, listener)).toBe(false);
    expect(twice.listeners('data')).toEqual([first, second]);
  });
});

describe('unmasking', () => {
  it('copies out each byte XORed with the key byte at its offset, at every length and alignment', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2_100 }), fc.uint8Array({ minLength: 4, maxLength: 4 }), fc.nat(7), (data, key, offset) => {
        // The key, then the payload, from `offset` in a read, itself a view one byte into its memory, with a byte after.
        const memory = Buffer.alloc(1 + offset + 4 + data.length + 1, 0xa5);
        const read = memory.subarray(1);
        read.set(key, offset);
        read.set(data, offset + 4);
        const copy = unmaskedCopy(read, offset + 4, data.length);
        expect(new Uint8Array(copy)).toEqual(data.map((byte, i) => byte ^ (key[i % 4] as number)));
        // The read itself is left as it was.
        expect(new Uint8Array(read.subarray(offset + 4, offset + 4 + data.length))).toEqual(data);
      }),
    );
  });
});
