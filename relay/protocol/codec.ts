import { FrameError } from './errors.js';
import { MAX_FRAME_BYTES, MAX_STRING_BYTES, PROTOCOL_VERSION } from './limits.js';
import { FRAME_SCHEMA, type FieldKind, type Frame, type FrameName } from './schema.js';

const HEADER_BYTES = 6;
const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { fatal: true });

const NAME_BY_TYPE = new Map<number, FrameName>(
  (Object.keys(FRAME_SCHEMA) as FrameName[]).map((name) => [FRAME_SCHEMA[name].type, name]),
);

type FieldEntries = ReadonlyArray<readonly [string, FieldKind]>;
const FIELDS: Record<FrameName, FieldEntries> = Object.fromEntries(
  (Object.keys(FRAME_SCHEMA) as FrameName[]).map((name) => [
    name,
    Object.entries(FRAME_SCHEMA[name].fields) as FieldEntries,
  ]),
) as Record<FrameName, FieldEntries>;

function fieldSize(kind: FieldKind, value: unknown): number {
  if (typeof kind === 'object') return kind.fixed;
  switch (kind) {
    case 'u32':
      return 4;
    case 'u53':
      return 8;
    case 'string':
      return 2 + (value as Uint8Array).length;
    case 'bytes':
      return 4 + (value as Uint8Array).length;
  }
}

/** A zeroed buffer of the frame's size. */
const newBytes = (size: number): Uint8Array => new Uint8Array(size);

/**
 * Encode a frame. Throws FrameError if a field does not fit its schema or the frame exceeds maxBytes.
 * `allocate` makes the buffer it is written into; every byte of it is written, so it may return uninitialised memory
 * (a server passes Node's pooled Buffer.allocUnsafe, far cheaper than a fresh ArrayBuffer per frame).
 */
export function encodeFrame(frame: Frame, maxBytes: number = MAX_FRAME_BYTES, allocate: (size: number) => Uint8Array = newBytes): Uint8Array {
  const fields = FIELDS[frame.name];
  const record = frame as unknown as Record<string, unknown>;
  // Strings are encoded once, here; other values are read again from the frame when written.
  let strings: Uint8Array[] | undefined;
  let size = HEADER_BYTES;
  for (const [field, kind] of fields) {
    let value = record[field];
    if (kind === 'string') {
      if (typeof value !== 'string') throw new FrameError('PROTO_MALFORMED_FRAME', `${frame.name}.${field} must be a string`);
      value = utf8Encoder.encode(value);
      if ((value as Uint8Array).length > MAX_STRING_BYTES) {
        throw new FrameError('PROTO_MALFORMED_FRAME', `${frame.name}.${field} is longer than ${MAX_STRING_BYTES} bytes`);
      }
      (strings ??= []).push(value as Uint8Array);
    } else if (kind === 'u32' || kind === 'u53') {
      const max = kind === 'u32' ? 0xffffffff : Number.MAX_SAFE_INTEGER;
      if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > max) {
        throw new FrameError('PROTO_MALFORMED_FRAME', `${frame.name}.${field} must be an integer in 0..${max}`);
      }
    } else {
      if (!(value instanceof Uint8Array)) throw new FrameError('PROTO_MALFORMED_FRAME', `${frame.name}.${field} must be bytes`);
      if (typeof kind === 'object' && value.length !== kind.fixed) {
        throw new FrameError('PROTO_MALFORMED_FRAME', `${frame.name}.${field} must be ${kind.fixed} bytes`);
      }
    }
    size += fieldSize(kind, value);
  }
  if (size > maxBytes) throw new FrameError('PROTO_FRAME_TOO_LARGE', `${frame.name} is ${size} bytes, over the ${maxBytes}-byte limit`);
  if (!Number.isInteger(frame.requestId) || frame.requestId < 0 || frame.requestId > 0xffffffff) {
    throw new FrameError('PROTO_MALFORMED_FRAME', 'requestId must be a u32');
  }

  const out = allocate(size);
  out[0] = PROTOCOL_VERSION;
  out[1] = FRAME_SCHEMA[frame.name].type;
  writeU32(out, 2, frame.requestId);
  let at = HEADER_BYTES;
  let nextString = 0;
  for (const [field, kind] of fields) {
    const value = kind === 'string' ? strings?.[nextString++] : record[field];
    if (kind === 'u32') {
      writeU32(out, at, value as number);
      at += 4;
    } else if (kind === 'u53') {
      writeU32(out, at, Math.floor((value as number) / 2 ** 32));
      writeU32(out, at + 4, (value as number) >>> 0);
      at += 8;
    } else {
      const bytes = value as Uint8Array;
      if (kind === 'string') {
        out[at] = bytes.length >>> 8;
        out[at + 1] = bytes.length & 0xff;
        at += 2;
      } else if (kind === 'bytes') {
        writeU32(out, at, bytes.length);
        at += 4;
      }
      out.set(bytes, at);
      at += bytes.length;
    }
  }
  return out;
}

/** Big-endian, by hand: a DataView per frame was an allocation per frame, each way. */
function writeU32(out: Uint8Array, at: number, value: number): void {
  out[at] = value >>> 24;
  out[at + 1] = (value >>> 16) & 0xff;
  out[at + 2] = (value >>> 8) & 0xff;
  out[at + 3] = value & 0xff;
}

/** The caller has checked the four bytes are there. */
function readU32(input: Uint8Array, at: number): number {
  return (((input[at] as number) << 24) | ((input[at + 1] as number) << 16) | ((input[at + 2] as number) << 8) | (input[at + 3] as number)) >>> 0;
}

/** A plain Uint8Array over part of input, whatever its class: a Buffer's subarray() is a Buffer, made through its species constructor. */
function viewOf(input: Uint8Array, at: number, length: number): Uint8Array {
  return new Uint8Array(input.buffer, input.byteOffset + at, length);
}

function truncated(name: FrameName, field: string): never {
  throw new FrameError('PROTO_MALFORMED_FRAME', `${name}.${field} is truncated`);
}

/**
 * Decode one frame. Throws FrameError with a stable code on anything that is not exactly one valid frame.
 * Byte fields are copies, unless `copy` is false: then they are views into input, which the caller must then leave
 * unchanged while it keeps them (a server reading each frame from a buffer of its own skips a copy per envelope).
 */
export function decodeFrame(input: Uint8Array, maxBytes: number = MAX_FRAME_BYTES, copy = true): Frame {
  if (input.length > maxBytes) throw new FrameError('PROTO_FRAME_TOO_LARGE', `frame is ${input.length} bytes, over the ${maxBytes}-byte limit`);
  if (input.length < HEADER_BYTES) throw new FrameError('PROTO_MALFORMED_FRAME', 'frame is shorter than its header');
  const version = input[0];
  if (version !== PROTOCOL_VERSION) throw new FrameError('PROTO_UNSUPPORTED_VERSION', `protocol version ${version} is not supported (this side speaks ${PROTOCOL_VERSION})`);
  const name = NAME_BY_TYPE.get(input[1] as number);
  if (name === undefined) throw new FrameError('PROTO_UNKNOWN_TYPE', `unknown frame type 0x${(input[1] as number).toString(16)}`);

  const frame: Record<string, unknown> = { name, requestId: readU32(input, 2) };
  let at = HEADER_BYTES;
  for (const [field, kind] of FIELDS[name]) {
    if (typeof kind === 'object') {
      if (at + kind.fixed > input.length) truncated(name, field);
      frame[field] = copy ? input.slice(at, at + kind.fixed) : viewOf(input, at, kind.fixed);
      at += kind.fixed;
      continue;
    }
    switch (kind) {
      case 'u32':
        if (at + 4 > input.length) truncated(name, field);
        frame[field] = readU32(input, at);
        at += 4;
        break;
      case 'u53': {
        if (at + 8 > input.length) truncated(name, field);
        const high = readU32(input, at);
        if (high > 0x1fffff) throw new FrameError('PROTO_MALFORMED_FRAME', `${name}.${field} exceeds 2^53`);
        frame[field] = high * 2 ** 32 + readU32(input, at + 4);
        at += 8;
        break;
      }
      case 'string': {
        if (at + 2 > input.length) truncated(name, field);
        const length = ((input[at] as number) << 8) | (input[at + 1] as number);
        at += 2;
        if (length > MAX_STRING_BYTES) throw new FrameError('PROTO_MALFORMED_FRAME', `${name}.${field} is longer than ${MAX_STRING_BYTES} bytes`);
        if (at + length > input.length) truncated(name, field);
        try {
          frame[field] = utf8Decoder.decode(viewOf(input, at, length));
        } catch {
          throw new FrameError('PROTO_MALFORMED_FRAME', `${name}.${field} is not valid UTF-8`);
        }
        at += length;
        break;
      }
      case 'bytes': {
        if (at + 4 > input.length) truncated(name, field);
        const length = readU32(input, at);
        at += 4;
        if (at + length > input.length) truncated(name, field);
        frame[field] = copy ? input.slice(at, at + length) : viewOf(input, at, length);
        at += length;
        break;
      }
    }
  }
  if (at !== input.length) throw new FrameError('PROTO_MALFORMED_FRAME', `${name} has ${input.length - at} trailing bytes`);
  return frame as unknown as Frame;
}
