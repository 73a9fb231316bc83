import { createRequire } from 'node:module';
import type { Readable } from 'node:stream';
import { emitReadsAsData, readIntoSharedBuffer } from './shared-read-buffer.js';

/** Where a client's frames go: the same calls whether this reader or ws's receiver read them. */
export interface FrameListener {
  received(data: Uint8Array, isBinary: boolean): void;
  ponged(): void;
  /** Reading the socket threw (a fault of the relay's, not the client's): the socket is read no more. */
  readFailed(error: unknown): void;
}

// RFC 6455 section 5.2: the first byte of a final frame with no reserved bit set, by opcode.
const FINAL_BINARY = 0x82;
const FINAL_PONG = 0x8a;
const MASKED = 0x80;
/** The first buffer a partial frame is copied into, unless the frame is shorter. */
const FIRST_PARTIAL_BYTES = 1024;
/** Control frames carry at most 125 bytes. */
const MAX_CONTROL_PAYLOAD = 125;

type DataListener = (this: Readable, chunk: Buffer) => void;

const kReader = Symbol('frameReader');

interface ReadSocket extends Readable {
  [kReader]?: FrameReader;
}

/** Shared by every socket, so none carries a closure of its own for its reads. */
function onData(this: ReadSocket, chunk: Buffer): void {
  const reader = this[kReader];
  if (reader === undefined) return;
  // Thrown out of a 'data' listener, it would end the process, and every other connection with it.
  try {
    reader.read(chunk);
  } catch (error) {
    reader.fail(error);
  }
}

/** The same for a read into the buffer every socket shares. */
function onSharedRead(this: ReadSocket, bytes: number, buffer: Buffer): void {
  const reader = this[kReader];
  if (reader === undefined) return;
  try {
    reader.read(buffer.subarray(0, bytes));
  } catch (error) {
    reader.fail(error);
  }
}

/**
 * Ahead of ws's own 'close' listener, which reads what the socket still holds (it was paused) into ws's receiver: read
 * here, those frames are handed on as ws would have, and ws's receiver never starts in the middle of one.
 */
function onClose(this: ReadSocket): void {
  const reader = this[kReader];
  if (reader === undefined) return;
  if (this.readableLength === 0) return;
  const rest: unknown = this.read(this.readableLength);
  if (Buffer.isBuffer(rest)) reader.read(rest);
}

/** bufferutil's mask(), from ws's optional native addon, where it is installed (which falls back to JavaScript itself). */
interface BufferUtil {
  /** Writes `length` bytes of `source` XORed with `key` to `output`, from `offset` on. */
  mask(source: Uint8Array, key: Uint8Array, output: Uint8Array, offset: number, length: number): void;
}

/** Below this, a loop here beats a call into the addon (ws draws the line at the same length). */
const NATIVE_UNMASK_FROM = 32;

const bufferUtil: BufferUtil | undefined = (() => {
  try {
    return createRequire(import.meta.url)('bufferutil') as BufferUtil;
  } catch {
    return undefined;
  }
})();

/** A copy of the payload of `length` bytes at `start` in `bytes`, unmasked with the four-byte key before it (RFC 6455 section 5.3). */
export function unmaskedCopy(bytes: Buffer, start: number, length: number): Buffer {
  const copy = Buffer.allocUnsafe(length);
  const key = new Uint8Array(bytes.buffer, bytes.byteOffset + start - 4, 4);
  if (bufferUtil !== undefined && length >= NATIVE_UNMASK_FROM) {
    bufferUtil.mask(new Uint8Array(bytes.buffer, bytes.byteOffset + start, length), key, copy, 0, length);
    return copy;
  }
  for (let i = 0; i < length; i++) copy[i] = (bytes[start + i] as number) ^ (key[i & 3] as number);
  return copy;
}

/**
 * Reads a client's WebSocket frames off its TCP socket in place of ws's receiver, for the two kinds a client sends in
 * steady state: final, masked binary frames (each a whole message) and pongs. ws's receiver takes each read through a
 * Writable stream (a deferred callback per read) and slices a buffer for each field of each frame; this reads them
 * where they were read, which on a plain TCP socket is the one buffer every socket reads into (shared-read-buffer.ts:
 * no Readable stream and no new buffer a read), and copies each message out unmasked. Any other frame (a ping, a close, text, a fragment, a reserved bit, an unmasked, oversized or 64-bit-long
 * frame) hands the socket back to ws's receiver from that frame on, for good: it answers each as it always has, and
 * closes the connection where RFC 6455 says to.
 */
class FrameReader {
  /**
   * The start of a frame not yet whole, copied into one buffer (`partialBytes` of it filled): however many reads a
   * client cuts a frame into, none of them is kept. It doubles as it fills, up to what the frame waits for, so the
   * memory follows the bytes a client has sent, not the length its header claims.
   */
  private partial: Buffer | undefined;
  private partialBytes = 0;
  /** How many bytes the partial frame needs before it is read again. */
  private needed = 0;

  constructor(
    private readonly socket: ReadSocket,
    /** ws's own 'data' listener, given back the socket when this reader meets a frame it leaves to ws. */
    private readonly wsOnData: DataListener,
    private readonly maxPayload: number,
    private readonly listener: FrameListener,
  ) {}

  read(chunk: Buffer): void {
    let bytes = chunk;
    if (this.partial !== undefined) {
      if (this.partialBytes + chunk.length < this.needed) {
        this.append(chunk);
        return;
      }
      bytes = Buffer.concat([this.partial.subarray(0, this.partialBytes), chunk]);
      this.partial = undefined;
      this.partialBytes = 0;
    }
    let at = 0;
    while (at < bytes.length) {
      const consumed = this.frameAt(bytes, at);
      if (consumed === 0) {
        // Any partial frame was taken into `bytes` above: this starts the next.
        this.append(bytes.subarray(at));
        return;
      }
      if (consumed < 0) {
        this.handBack(bytes.subarray(at));
        return;
      }
      at += consumed;
    }
  }

  /**
   * Reads the frame that starts at `at`: its length once handed on, 0 if it is not yet whole (`needed` then says how
   * many bytes it waits for), -1 if it is one for ws's receiver.
   */
  private frameAt(bytes: Buffer, at: number): number {
    const available = bytes.length - at;
    if (available < 2) return this.wait(2);
    const first = bytes[at] as number;
    const second = bytes[at + 1] as number;
    if ((first !== FINAL_BINARY && first !== FINAL_PONG) || (second & MASKED) === 0) return -1;
    let length = second & 0x7f;
    let header = 6;
    if (length === 126) {
      if (available < 4) return this.wait(4);
      length = bytes.readUInt16BE(at + 2);
      header = 8;
    } else if (length === 127) {
      return -1;
    }
    if (length > this.maxPayload || (first === FINAL_PONG && length > MAX_CONTROL_PAYLOAD)) return -1;
    if (available < header + length) return this.wait(header + length);
    // A copy: the read may be the buffer every socket reads into, and a message may be held long after it.
    if (first === FINAL_BINARY) this.listener.received(unmaskedCopy(bytes, at + header, length), true);
    else this.listener.ponged();
    return header + length;
  }

  private wait(bytes: number): 0 {
    this.needed = bytes;
    return 0;
  }

  /** Add to the partial frame (there is none yet when a read ends in the start of a frame) bytes that do not complete it. */
  private append(bytes: Buffer): void {
    const filled = this.partialBytes + bytes.length;
    let partial = this.partial;
    if (partial === undefined || filled > partial.length) {
      const grown = Buffer.allocUnsafe(Math.min(this.needed, Math.max(filled, 2 * (partial?.length ?? 0), FIRST_PARTIAL_BYTES)));
      partial?.copy(grown, 0, 0, this.partialBytes);
      partial = this.partial = grown;
    }
    this.partialBytes += bytes.copy(partial, this.partialBytes);
  }

  fail(error: unknown): void {
    this.detach();
    this.listener.readFailed(error);
  }

  private handBack(rest: Buffer): void {
    this.detach();
    this.socket.on('data', this.wsOnData);
    // A copy: ws's receiver keeps what it is given, and this may be the buffer every socket reads into.
    this.wsOnData.call(this.socket, Buffer.from(rest));
  }

  private detach(): void {
    emitReadsAsData(this.socket);
    this.socket.removeListener('data', onData);
    this.socket.removeListener('close', onClose);
    this.socket[kReader] = undefined;
    this.partial = undefined;
  }
}

/**
 * Takes over reading a WebSocket's frames from ws (see FrameReader). Called on a new, paused connection, before it has
 * read a byte: ws's receiver must hold nothing yet. False, and ws reads on, if the socket's listeners are not the one
 * ws put there. A TCP socket then reads into the shared buffer; a TLS socket, whose reads come out of TLS, still emits
 * them as 'data'.
 */
export function readFramesDirectly(socket: Readable, maxPayload: number, listener: FrameListener): boolean {
  const listeners = socket.listeners('data');
  const wsOnData = listeners[0];
  if (listeners.length !== 1 || wsOnData === undefined) return false;
  socket.removeListener('data', wsOnData as DataListener);
  const reading = socket as ReadSocket;
  reading[kReader] = new FrameReader(reading, wsOnData as DataListener, maxPayload, listener);
  // Still needed with the shared buffer: bytes the stream holds already (ws unshifts those read with the upgrade).
  socket.on('data', onData);
  socket.prependListener('close', onClose);
  readIntoSharedBuffer(socket, onSharedRead);
  return true;
}
