import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  FRAME_SCHEMA,
  FrameError,
  MAX_ACKS_PER_FRAME,
  MAX_FRAME_BYTES,
  MAX_STRING_BYTES,
  PROTOCOL_VERSION,
  decodeFrame,
  decodeMessageIds,
  decodeRequestIds,
  encodeFrame,
  encodeMessageIds,
  encodeRequestIds,
  type FieldKind,
  type Frame,
  type FrameName,
  type FrameOf,
} from '../../relay/protocol/index.js';

function hex(text: string): Uint8Array {
  return Uint8Array.from(Buffer.from(text.replace(/\s+/g, ''), 'hex'));
}

function filled(length: number, byte: number): Uint8Array {
  return new Uint8Array(length).fill(byte);
}

/** The FrameError code a call throws; fails the test if it returns or throws anything else. */
function frameErrorCode(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    if (error instanceof FrameError) return error.code;
    throw error;
  }
  throw new Error('expected a FrameError');
}

const SAMPLES: { [N in FrameName]: FrameOf<N> } = {
  CHALLENGE: { name: 'CHALLENGE', requestId: 0, nonce: filled(32, 0x11), serverTime: 1_700_000_000_000 },
  OK: { name: 'OK', requestId: 9 },
  OKS: { name: 'OKS', requestId: 0, requestIds: Uint8Array.of(0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff) },
  ERROR: { name: 'ERROR', requestId: 3, code: 'QUEUE_FULL', message: 'queue is full: ü ✓ 💬', retryAfterMs: 5_000 },
  USER: {
    name: 'USER',
    requestId: 4,
    username: 'alice',
    identityKey: filled(32, 1),
    agreementKey: filled(32, 2),
    agreementSig: filled(64, 3),
  },
  DELIVER: { name: 'DELIVER', requestId: 0, messageId: filled(16, 4), envelope: Uint8Array.of(1, 2, 3), receivedAt: 2 ** 53 - 1 },
  DRAINED: { name: 'DRAINED', requestId: 0, count: 0xffffffff },
  REGISTER: {
    name: 'REGISTER',
    requestId: 0xffffffff,
    username: 'bob.b-2_x',
    identityKey: filled(32, 5),
    agreementKey: filled(32, 6),
    agreementSig: filled(64, 7),
    signature: filled(64, 8),
  },
  AUTH: { name: 'AUTH', requestId: 1, username: 'carol', signature: filled(64, 9) },
  LOOKUP: { name: 'LOOKUP', requestId: 2, username: '' },
  SEND: { name: 'SEND', requestId: 5, to: 'dave', messageId: filled(16, 10), envelope: new Uint8Array() },
  ACK: { name: 'ACK', requestId: 6, messageId: filled(16, 11) },
  ACKS: { name: 'ACKS', requestId: 0, messageIds: Uint8Array.of(...filled(16, 10), ...filled(16, 11)) },
  PUBLISH_SIGNED_PREKEY: { name: 'PUBLISH_SIGNED_PREKEY', requestId: 12, keyId: 7, publicKey: filled(32, 12), signature: filled(64, 13) },
  PUBLISH_ONE_TIME_PREKEYS: { name: 'PUBLISH_ONE_TIME_PREKEYS', requestId: 13, prekeys: filled(72, 14) },
  PUBLISH_PQ_PREKEYS: { name: 'PUBLISH_PQ_PREKEYS', requestId: 14, prekeys: filled(1253, 15) },
  FETCH_PREKEYS: { name: 'FETCH_PREKEYS', requestId: 15, username: 'erin' },
  PREKEY_BUNDLE: {
    name: 'PREKEY_BUNDLE',
    requestId: 16,
    username: 'erin',
    identityKey: filled(32, 16),
    agreementKey: filled(32, 17),
    agreementSig: filled(64, 18),
    signedPrekeyId: 1,
    signedPrekey: filled(32, 19),
    signedPrekeySig: filled(64, 20),
    pqPrekeyId: 2,
    pqLastResort: 1,
    pqPrekey: filled(1184, 21),
    pqPrekeySig: filled(64, 22),
    oneTimePrekey: new Uint8Array(),
  },
  PREKEYS_LOW: { name: 'PREKEYS_LOW', requestId: 0, oneTimeCount: 3, pqOneTimeCount: 0 },
  SEND_EXPIRING: { name: 'SEND_EXPIRING', requestId: 7, to: 'erin', messageId: filled(16, 12), envelope: Uint8Array.of(9), ttlMs: 0xffffffff },
  REGISTER_INVITE: {
    name: 'REGISTER_INVITE',
    requestId: 8,
    username: 'frank',
    identityKey: filled(32, 13),
    agreementKey: filled(32, 14),
    agreementSig: filled(64, 15),
    signature: filled(64, 16),
    invite: 'k3Xq-invite',
  },
  TOKEN_REQUEST: { name: 'TOKEN_REQUEST', requestId: 9 },
  TOKEN: { name: 'TOKEN', requestId: 9, token: 'eyJhbGciOiJFZERTQSJ9.e30.sig', expiresAt: 1_800_000_900_000 },
  RESUME: { name: 'RESUME', requestId: 1, token: 'eyJhbGciOiJFZERTQSJ9.e30.sig' },
  SEND_WITH_RECEIPT: { name: 'SEND_WITH_RECEIPT', requestId: 10, to: 'gus', messageId: filled(16, 17), envelope: Uint8Array.of(5, 6), ttlMs: 0 },
  RECEIPT: { name: 'RECEIPT', requestId: 0, messageId: filled(16, 18), ackedAt: 1_800_000_000_123 },
  TOTP_SETUP: { name: 'TOTP_SETUP', requestId: 11 },
  TOTP_SECRET: { name: 'TOTP_SECRET', requestId: 11, secret: 'JBSWY3DPEHPK3PXP', uri: 'otpauth://totp/Parley:hal?secret=JBSWY3DPEHPK3PXP' },
  TOTP_ENABLE: { name: 'TOTP_ENABLE', requestId: 12, code: '123456' },
  TOTP_DISABLE: { name: 'TOTP_DISABLE', requestId: 13, code: '654321' },
  REGISTER_LOCKED: {
    name: 'REGISTER_LOCKED',
    requestId: 14,
    username: 'ivy',
    identityKey: filled(32, 19),
    agreementKey: filled(32, 20),
    agreementSig: filled(64, 21),
    signature: filled(64, 22),
    code: '000000',
  },
};

// Written out by hand from the schema comment in relay/protocol/schema.ts.
const FIXTURES: ReadonlyArray<{ hex: string; frame: Frame }> = [
  {
    // version 1 | ACK 0x14 | requestId 7 | messageId (16 bytes)
    hex: '01 14 00000007 00112233445566778899aabbccddeeff',
    frame: { name: 'ACK', requestId: 7, messageId: hex('00112233445566778899aabbccddeeff') },
  },
  {
    // version 1 | ERROR 0x03 | requestId 42 | code "QUEUE_FULL" (u16 10) | message "full" (u16 4) | retryAfterMs 1000
    hex: '01 03 0000002a 000a 51554555455f46554c4c 0004 66756c6c 000003e8',
    frame: { name: 'ERROR', requestId: 42, code: 'QUEUE_FULL', message: 'full', retryAfterMs: 1000 },
  },
  {
    // version 1 | ERROR 0x03 | requestId 0xfedcba98 (top bit set) | code "X" (u16 1) | message 300 x "m" (u16 0x012c) | retryAfterMs 0x80000001
    hex: `01 03 fedcba98 0001 58 012c ${'6d'.repeat(300)} 80000001`,
    frame: { name: 'ERROR', requestId: 0xfedcba98, code: 'X', message: 'm'.repeat(300), retryAfterMs: 0x80000001 },
  },
  {
    // version 1 | DRAINED 0x06 | requestId 0 | count 3
    hex: '01 06 00000000 00000003',
    frame: { name: 'DRAINED', requestId: 0, count: 3 },
  },
  {
    // version 1 | CHALLENGE 0x01 | requestId 0 | nonce (32 x 0xab) | serverTime 1_700_000_000_000 = 0x18bcfe56800
    hex: `01 01 00000000 ${'ab'.repeat(32)} 0000018bcfe56800`,
    frame: { name: 'CHALLENGE', requestId: 0, nonce: filled(32, 0xab), serverTime: 1_700_000_000_000 },
  },
  {
    // version 1 | SEND 0x13 | requestId 1 | to "bob" (u16 3) | messageId (16 x 0x01) | envelope (u32 2) ca fe
    hex: `01 13 00000001 0003 626f62 ${'01'.repeat(16)} 00000002 cafe`,
    frame: { name: 'SEND', requestId: 1, to: 'bob', messageId: filled(16, 1), envelope: hex('cafe') },
  },
  {
    // version 1 | SEND_EXPIRING 0x30 | requestId 2 | to "bob" | messageId (16 x 0x02) | envelope (u32 1) 07 | ttlMs 60_000 = 0xea60
    hex: `01 30 00000002 0003 626f62 ${'02'.repeat(16)} 00000001 07 0000ea60`,
    frame: { name: 'SEND_EXPIRING', requestId: 2, to: 'bob', messageId: filled(16, 2), envelope: hex('07'), ttlMs: 60_000 },
  },
];

describe('protocol codec: round trips', () => {
  it.each(Object.keys(SAMPLES) as FrameName[])('%s encodes and decodes to the same frame', (name) => {
    const frame = SAMPLES[name];
    const bytes = encodeFrame(frame);
    expect(bytes[0]).toBe(PROTOCOL_VERSION);
    expect(bytes[1]).toBe(FRAME_SCHEMA[name].type);
    expect(decodeFrame(bytes)).toEqual(frame);
  });

  it.each(FIXTURES.map((fixture) => [fixture.frame.name, fixture] as const))('hex fixture %s decodes and encodes', (_name, fixture) => {
    const bytes = hex(fixture.hex);
    expect(decodeFrame(bytes)).toEqual(fixture.frame);
    expect(Buffer.from(encodeFrame(fixture.frame)).toString('hex')).toBe(fixture.hex.replace(/\s+/g, ''));
  });

  it('decodes from a view into a larger buffer', () => {
    const backing = hex(`ffff ${FIXTURES[0]?.hex ?? ''} ffff`);
    const view = backing.subarray(2, backing.length - 2);
    expect(decodeFrame(view)).toEqual(FIXTURES[0]?.frame);
  });

  it('copies byte fields out of the input, or with copy false hands back views into it', () => {
    const frame = SAMPLES.DELIVER;
    const copied = decodeFrame(encodeFrame(frame)) as FrameOf<'DELIVER'>;
    const input = encodeFrame(frame);
    const viewed = decodeFrame(input, MAX_FRAME_BYTES, false) as FrameOf<'DELIVER'>;
    expect(viewed).toEqual(copied);
    input.fill(0xee);
    expect(viewed.envelope.every((byte) => byte === 0xee)).toBe(true);
    expect(viewed.messageId.every((byte) => byte === 0xee)).toBe(true);
    expect(copied).toEqual(frame);
  });

  it.each(Object.keys(SAMPLES) as FrameName[])('%s writes every byte of the buffer it is given, whatever was in it', (name) => {
    const frame = SAMPLES[name];
    const junk = (size: number): Uint8Array => new Uint8Array(size + 8).fill(0xa5).subarray(4, 4 + size);
    expect(encodeFrame(frame, MAX_FRAME_BYTES, junk)).toEqual(encodeFrame(frame));
  });
});

describe('protocol codec: rejects bad bytes with a stable code', () => {
  const ack = '01 14 00000007 00112233445566778899aabbccddeeff';

  it.each([
    ['a header cut short', '01 14 0000', 'PROTO_MALFORMED_FRAME'],
    ['a truncated field', ack.slice(0, -2), 'PROTO_MALFORMED_FRAME'],
    ['trailing bytes', `${ack} 00`, 'PROTO_MALFORMED_FRAME'],
    ['version 2', `02${ack.slice(2)}`, 'PROTO_UNSUPPORTED_VERSION'],
    ['version 0', `00${ack.slice(2)}`, 'PROTO_UNSUPPORTED_VERSION'],
    ['an unknown type', '01 7f 00000000', 'PROTO_UNKNOWN_TYPE'],
    ['bad UTF-8 in a string', '01 12 00000001 0002 c328', 'PROTO_MALFORMED_FRAME'],
    ['a lone surrogate encoded as UTF-8', '01 12 00000001 0003 eda080', 'PROTO_MALFORMED_FRAME'],
    ['a string length over MAX_STRING_BYTES', `01 12 00000001 0401 ${'61'.repeat(1025)}`, 'PROTO_MALFORMED_FRAME'],
    ['a string length past the end', '01 12 00000001 0010 6162', 'PROTO_MALFORMED_FRAME'],
    ['a bytes length past the end', `01 13 00000001 0003 626f62 ${'01'.repeat(16)} ffffffff cafe`, 'PROTO_MALFORMED_FRAME'],
    ['a u53 of exactly 2^53', `01 01 00000000 ${'ab'.repeat(32)} 0020000000000000`, 'PROTO_MALFORMED_FRAME'],
    ['a u53 with the top bit set', `01 01 00000000 ${'ab'.repeat(32)} ffffffffffffffff`, 'PROTO_MALFORMED_FRAME'],
  ])('%s', (_label, bytes, code) => {
    expect(frameErrorCode(() => decodeFrame(hex(bytes)))).toBe(code);
  });

  it('accepts the largest u53, 2^53 - 1', () => {
    const frame = decodeFrame(hex(`01 01 00000000 ${'ab'.repeat(32)} 001fffffffffffff`));
    expect(frame).toMatchObject({ name: 'CHALLENGE', serverTime: Number.MAX_SAFE_INTEGER });
  });

  it('rejects input over MAX_FRAME_BYTES before reading it', () => {
    expect(frameErrorCode(() => decodeFrame(new Uint8Array(MAX_FRAME_BYTES + 1)))).toBe('PROTO_FRAME_TOO_LARGE');
  });

  it('honours a smaller maxBytes', () => {
    expect(frameErrorCode(() => decodeFrame(hex('01 06 00000000 00000003'), 9))).toBe('PROTO_FRAME_TOO_LARGE');
  });
});

describe('protocol codec: refuses to encode frames that break the schema', () => {
  it.each<[string, Frame, string]>([
    ['a string over MAX_STRING_BYTES', { name: 'LOOKUP', requestId: 1, username: 'a'.repeat(MAX_STRING_BYTES + 1) }, 'PROTO_MALFORMED_FRAME'],
    ['a fixed field of the wrong length', { name: 'ACK', requestId: 1, messageId: new Uint8Array(15) }, 'PROTO_MALFORMED_FRAME'],
    ['a u32 above 2^32 - 1', { name: 'DRAINED', requestId: 0, count: 2 ** 32 }, 'PROTO_MALFORMED_FRAME'],
    ['a negative integer', { name: 'DRAINED', requestId: 0, count: -1 }, 'PROTO_MALFORMED_FRAME'],
    ['a u53 above 2^53 - 1', { ...SAMPLES.CHALLENGE, serverTime: 2 ** 53 }, 'PROTO_MALFORMED_FRAME'],
    ['a requestId above 2^32 - 1', { name: 'OK', requestId: 2 ** 32 }, 'PROTO_MALFORMED_FRAME'],
    ['a frame over MAX_FRAME_BYTES', { ...SAMPLES.SEND, envelope: new Uint8Array(MAX_FRAME_BYTES) }, 'PROTO_FRAME_TOO_LARGE'],
  ])('%s', (_label, frame, code) => {
    expect(frameErrorCode(() => encodeFrame(frame))).toBe(code);
  });
});

function fieldArbitrary(kind: FieldKind): fc.Arbitrary<unknown> {
  if (typeof kind === 'object') return fc.uint8Array({ minLength: kind.fixed, maxLength: kind.fixed });
  switch (kind) {
    case 'u32':
      return fc.integer({ min: 0, max: 0xffffffff });
    case 'u53':
      return fc.maxSafeNat();
    case 'string':
      // At most 4 UTF-8 bytes per code point keeps every string under MAX_STRING_BYTES.
      return fc.string({ unit: 'binary', maxLength: MAX_STRING_BYTES / 4 });
    case 'bytes':
      return fc.uint8Array({ maxLength: 2048 });
  }
}

const anyFrame: fc.Arbitrary<Frame> = fc.oneof(
  ...(Object.keys(FRAME_SCHEMA) as FrameName[]).map((name) => {
    const fields = Object.fromEntries(
      Object.entries(FRAME_SCHEMA[name].fields).map(([field, kind]) => [field, fieldArbitrary(kind as FieldKind)]),
    );
    return fc.record({ name: fc.constant(name), requestId: fc.integer({ min: 0, max: 0xffffffff }), ...fields }) as fc.Arbitrary<Frame>;
  }),
);

/** decodeFrame either returns a frame or throws a FrameError, never anything else. */
function decodesOrThrowsFrameError(bytes: Uint8Array): void {
  try {
    decodeFrame(bytes);
  } catch (error) {
    expect(error).toBeInstanceOf(FrameError);
  }
}

describe('protocol codec: properties', () => {
  it('round-trips arbitrary field values of every frame type', () => {
    fc.assert(
      fc.property(anyFrame, (frame) => {
        expect(decodeFrame(encodeFrame(frame))).toEqual(frame);
      }),
      { numRuns: 2_000 },
    );
  });

  it('never throws anything but FrameError on arbitrary bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 512 }), decodesOrThrowsFrameError), { numRuns: 5_000 });
  });

  it('never throws anything but FrameError on arbitrary bytes behind a valid header', () => {
    const types = Object.values(FRAME_SCHEMA).map((entry) => entry.type);
    const headed = fc
      .tuple(fc.constantFrom(...types), fc.uint8Array({ maxLength: 512 }))
      .map(([type, rest]) => Uint8Array.from([PROTOCOL_VERSION, type, ...rest]));
    fc.assert(fc.property(headed, decodesOrThrowsFrameError), { numRuns: 5_000 });
  });

  it('never throws anything but FrameError on truncated or corrupted valid frames', () => {
    const mutated = fc
      .tuple(anyFrame, fc.nat(), fc.nat(), fc.integer({ min: 0, max: 255 }))
      .map(([frame, cut, at, byte]) => {
        const bytes = encodeFrame(frame);
        const corrupted = bytes.slice(0, cut % (bytes.length + 1));
        if (corrupted.length > 0) corrupted[at % corrupted.length] = byte;
        return corrupted;
      });
    fc.assert(fc.property(mutated, decodesOrThrowsFrameError), { numRuns: 5_000 });
  });
});

describe('message id lists (ACKS)', () => {
  it('round-trips 1 to MAX_ACKS_PER_FRAME ids, in order, as views of the field', () => {
    for (const count of [1, 2, MAX_ACKS_PER_FRAME]) {
      const ids = Array.from({ length: count }, (_, i) => filled(16, i % 256));
      const field = encodeMessageIds(ids);
      expect(field.length).toBe(16 * count);
      const decoded = decodeMessageIds(field);
      expect(decoded).toEqual(ids);
      expect(decoded?.[0]?.buffer).toBe(field.buffer);
    }
  });

  it('refuses none, a part of an id, more than MAX_ACKS_PER_FRAME, and ids that are not 16 bytes', () => {
    for (const length of [0, 15, 17, 16 * MAX_ACKS_PER_FRAME + 16]) expect(decodeMessageIds(new Uint8Array(length))).toBeUndefined();
    expect(() => encodeMessageIds([new Uint8Array(15)])).toThrow(RangeError);
  });
});

describe('request id lists (OKS)', () => {
  it('round-trips u32 request ids, big-endian, in order', () => {
    const ids = [1, 0x01020304, 0xffffffff];
    const field = encodeRequestIds(ids);
    expect([...field]).toEqual([0, 0, 0, 1, 1, 2, 3, 4, 0xff, 0xff, 0xff, 0xff]);
    expect(decodeRequestIds(field)).toEqual(ids);
  });

  it('writes every byte of the memory it is given, so pooled, unzeroed memory is safe', () => {
    const ids = [0, 0x00ff00ff, 0xffffffff];
    const dirty = encodeRequestIds(ids, (size) => new Uint8Array(size).fill(0xa5));
    expect([...dirty]).toEqual([0, 0, 0, 0, 0, 0xff, 0, 0xff, 0xff, 0xff, 0xff, 0xff]);
  });

  it('refuses none and a part of an id', () => {
    for (const length of [0, 3, 5]) expect(decodeRequestIds(new Uint8Array(length))).toBeUndefined();
  });
});
