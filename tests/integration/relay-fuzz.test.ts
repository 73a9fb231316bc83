import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import fc from 'fast-check';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FRAME_SCHEMA, PROTOCOL_VERSION, encodeFrame, type ClientFrame } from '../../relay/protocol/index.js';
import type { LogEvent, LogFields } from '../../relay/src/log.js';
import { FINAL_BINARY, clientFrameBytes, splitAt } from '../support/client-frames.js';
import { rawWebSocket } from '../support/raw-websocket.js';
import { startTestRelay, type TestRelay } from '../support/relay.js';
import { WireClient, createIdentity, expectOk, type TestIdentity } from '../support/wire-client.js';

let r: TestRelay;
let alice: TestIdentity;
let bob: TestIdentity;

/** What the relay logged as its own failures (a fault of its code, not of the client's bytes), with their fields. */
const faults: Array<{ readonly event: LogEvent; readonly fields: LogFields | undefined }> = [];

beforeAll(async () => {
  // Generous limits: the fuzzer opens many connections from one address and must reach the frame handlers.
  r = await startTestRelay(
    {
      maxConnectionsPerIp: 10_000,
      maxHandshakesPerIp: 10_000,
      rateLimits: { connections: { points: 100_000, durationMs: 60_000 }, messages: { points: 100_000, durationMs: 1_000 } },
    },
    { log: (event, fields) => void (event === 'internal_error' || event === 'server_error' ? faults.push({ event, fields }) : undefined) },
  );
  [alice, bob] = await Promise.all([createIdentity('alice'), createIdentity('bob')]);
  for (const identity of [alice, bob]) await (await WireClient.registered(r.url, identity)).close();
});

afterAll(async () => {
  await r.close();
});

afterEach(() => {
  // Bad bytes are the client's fault: the relay answers or closes, and never fails on its own account.
  expect(faults.splice(0)).toEqual([]);
});

const messageId = (): Uint8Array => new Uint8Array(randomBytes(16));

/** Valid client frames to mutate (requests a real client sends). */
const seeds: readonly ClientFrame[] = [
  { name: 'LOOKUP', requestId: 7, username: 'bob' },
  { name: 'SEND', requestId: 8, to: 'bob', messageId: new Uint8Array(16).fill(3), envelope: new Uint8Array(40).fill(9) },
  { name: 'SEND_EXPIRING', requestId: 9, to: 'bob', messageId: new Uint8Array(16).fill(4), envelope: Uint8Array.of(1), ttlMs: 1000 },
  { name: 'ACK', requestId: 10, messageId: new Uint8Array(16).fill(5) },
  { name: 'ACKS', requestId: 0, messageIds: Uint8Array.from({ length: 48 }, (_, i) => i) },
  { name: 'AUTH', requestId: 11, username: 'alice', signature: new Uint8Array(64) },
  { name: 'RESUME', requestId: 12, token: 'eyJhbGciOiJub25lIn0.e30.' },
  { name: 'TOKEN_REQUEST', requestId: 13 },
  { name: 'TOTP_ENABLE', requestId: 14, code: '123456' },
];

const types = Object.values(FRAME_SCHEMA).map((entry) => entry.type);

/** Random bytes, random bytes behind a valid header, and valid frames truncated, extended or with bytes flipped. */
const hostileFrame: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc.uint8Array({ maxLength: 300 }),
  fc.tuple(fc.constantFrom(...types), fc.uint8Array({ maxLength: 300 })).map(([type, rest]) => Uint8Array.from([PROTOCOL_VERSION, type, ...rest])),
  fc
    .tuple(fc.constantFrom(...seeds), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }), fc.nat(), fc.uint8Array({ maxLength: 8 }))
    .map(([seed, flips, cut, tail]) => {
      const bytes = encodeFrame(seed);
      for (const [at, value] of flips) bytes[at % bytes.length] = value;
      const kept = bytes.slice(0, bytes.length - (cut % 3 === 0 ? cut % bytes.length : 0));
      return Uint8Array.from([...kept, ...(cut % 3 === 1 ? tail : [])]);
    }),
);

/** A binary WebSocket frame around protocol bytes, as a client sends it. */
const wrapped = (payload: Uint8Array): Buffer => clientFrameBytes({ first: FINAL_BINARY, payload });

/**
 * A client's bytes at the WebSocket layer: well-formed frames around valid and hostile protocol frames, frames of every
 * kind with any first byte (pings, closes, text, fragments, reserved bits and opcodes), unmasked or with a 64-bit
 * length, frames cut short, and noise.
 */
const wirePieces: fc.Arbitrary<Buffer[]> = fc
  .array(
    fc.oneof(
      fc.constantFrom(...seeds).map((frame) => wrapped(encodeFrame(frame))),
      hostileFrame.map(wrapped),
      // Long enough for a 16-bit length: a read may end inside its header.
      fc.uint8Array({ minLength: 126, maxLength: 400 }).map(wrapped),
      fc
        .record({
          first: fc.oneof(fc.constantFrom(0x82, 0x02, 0x00, 0x80, 0x81, 0x88, 0x89, 0x8a, 0xc2, 0x83), fc.integer({ min: 0, max: 255 })),
          payload: fc.uint8Array({ maxLength: 200 }),
          masked: fc.boolean(),
          longLength: fc.boolean(),
        })
        .map(clientFrameBytes),
      fc.tuple(hostileFrame.map(wrapped), fc.nat()).map(([bytes, keep]) => bytes.subarray(0, keep % bytes.length)),
      fc.uint8Array({ maxLength: 40 }).map((bytes) => Buffer.from(bytes)),
    ),
    { minLength: 1, maxLength: 6 },
  );

/**
 * The writes the pieces go in: cut anywhere, and also a few bytes into a piece, inside a frame's header, where a read
 * that ends there leaves the relay a frame whose length it cannot yet know.
 */
function writesOf(pieces: readonly Buffer[], cuts: ReadonlyArray<readonly [number, number]>): Buffer[] {
  const starts = pieces.map((_, i) => pieces.slice(0, i).reduce((sum, piece) => sum + piece.length, 0));
  return splitAt(
    Buffer.concat(pieces),
    cuts.map(([piece, into]) => (starts[piece % starts.length] ?? 0) + into),
  );
}

/** Send the frames, then wait until the relay has dealt with them: a LOOKUP answered, or the socket closed. */
async function assault(client: WireClient, frames: readonly Uint8Array[]): Promise<void> {
  for (const frame of frames) client.sendRaw(frame);
  await Promise.race([client.closed, client.request({ name: 'LOOKUP', username: 'bob' }).catch(() => undefined)]);
}

/** A well-behaved exchange: alice sends, bob receives and acks. */
async function stillServes(): Promise<void> {
  const sender = await WireClient.authenticated(r.url, alice);
  const recipient = await WireClient.authenticated(r.url, bob);
  try {
    // Take and ack whatever fuzzed SENDs queued for bob before checking the fresh one.
    const { count } = await recipient.next('DRAINED');
    for (let i = 0; i < count; i++) recipient.post({ name: 'ACK', messageId: (await recipient.next('DELIVER')).messageId });
    const id = messageId();
    await expectOk(sender.request({ name: 'SEND', to: 'bob', messageId: id, envelope: Uint8Array.of(1, 2, 3) }));
    const delivered = await recipient.next('DELIVER');
    expect(delivered.messageId).toEqual(id);
    recipient.post({ name: 'ACK', messageId: id });
  } finally {
    await Promise.all([sender.close(), recipient.close()]);
  }
}

describe('relay under fuzzed input', () => {
  it('survives random and mutated WebSocket frames, cut into random reads, and keeps serving', async () => {
    await fc.assert(
      fc.asyncProperty(wirePieces, fc.array(fc.tuple(fc.nat(), fc.nat(12)), { maxLength: 6 }), async (pieces, cuts) => {
        const socket = await rawWebSocket(r.url);
        // The relay may close the connection before all is written: a write after that fails, as it should.
        socket.on('error', () => undefined);
        const closed = once(socket, 'close');
        for (const write of writesOf(pieces, cuts)) {
          socket.write(write);
          // A turn of the event loop: the relay, in this process, reads each write on its own, not all of them at once.
          await new Promise((resolve) => setImmediate(resolve));
        }
        // Whatever the bytes did, the relay closes a connection whose client has finished sending.
        socket.end();
        await closed;
      }),
      { numRuns: 150 },
    );
    await stillServes();
  });

  it('survives random and mutated frames on unauthenticated connections and keeps serving', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(hostileFrame, { minLength: 1, maxLength: 5 }), async (frames) => {
        const client = await WireClient.connect(r.url);
        await assault(client, frames);
        await client.close();
      }),
      { numRuns: 150 },
    );
    await stillServes();
  });

  it('survives random and mutated frames on authenticated connections and keeps serving', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(hostileFrame, { minLength: 1, maxLength: 5 }), async (frames) => {
        const client = await WireClient.authenticated(r.url, alice);
        await assault(client, frames);
        await client.close();
      }),
      { numRuns: 150 },
    );
    await stillServes();
  });
});
