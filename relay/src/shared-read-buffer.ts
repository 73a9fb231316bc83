import { Socket } from 'node:net';
import type { Readable } from 'node:stream';

/**
 * Called with each read, in place of a 'data' event: the bytes are `buffer`'s first `bytes`, and the buffer is reused by
 * the next read of any socket, so nothing may keep a view of it.
 */
export type SharedRead = (this: Readable, bytes: number, buffer: Buffer) => void;

/** What libuv asks for a read by default, so a read is no shorter than with Node's own buffers. */
const READ_BUFFER_BYTES = 64 * 1024;

/** One buffer for every socket: each read is handled (and whatever outlives it copied) before the next begins. */
const sharedBuffer = Buffer.allocUnsafe(READ_BUFFER_BYTES);

interface StreamHandle {
  useUserBuffer?: unknown;
}

/**
 * Node's `onread` option of `net.Socket` (reads go into the caller's buffer, straight to a callback, past the Readable
 * stream and without a new buffer a read), which a socket Node accepted for a server cannot be given. These are the
 * two fields the option sets, found by name on a socket, where every Node since 12 keeps them.
 */
const onreadFields = ((): { buffer: symbol; callback: symbol } | undefined => {
  const probe = new Socket();
  const fields = Object.getOwnPropertySymbols(probe);
  const buffer = fields.find((field) => field.description === 'kBuffer');
  const callback = fields.find((field) => field.description === 'kBufferCb');
  const record = probe as unknown as Record<symbol, unknown>;
  if (buffer === undefined || callback === undefined || record[buffer] !== null || record[callback] !== null) return undefined;
  return { buffer, callback };
})();

/**
 * Has Node read `socket` into the shared buffer from now on, handing each read to `onRead` rather than emitting
 * 'data' (bytes the stream already holds are still emitted as 'data'). False, and nothing changes, where this Node or
 * this socket cannot: a TLS socket, whose reads come decrypted from TLS, or one already reading into a buffer.
 * Pausing still works: with the option set, Node's pause() and resume() stop and start the socket's reads themselves.
 */
export function readIntoSharedBuffer(socket: Readable, onRead: SharedRead): boolean {
  if (onreadFields === undefined || Object.getPrototypeOf(socket) !== Socket.prototype) return false;
  const tcp = socket as Socket & { _handle?: StreamHandle | null };
  const record = socket as unknown as Record<symbol, unknown>;
  const handle = tcp._handle;
  if (tcp.connecting || handle == null || typeof handle.useUserBuffer !== 'function') return false;
  if (record[onreadFields.buffer] !== null) return false;
  (handle.useUserBuffer as (buffer: Buffer) => void).call(handle, sharedBuffer);
  record[onreadFields.buffer] = sharedBuffer;
  record[onreadFields.callback] = onRead;
  // A paused socket went on reading into its stream; pause() now stops the reads themselves.
  if (socket.isPaused()) socket.pause();
  return true;
}

/** Emits a copy of each read as 'data', as Node does without the option (which cannot be taken back). */
function emitAsData(this: Readable, bytes: number, buffer: Buffer): void {
  this.emit('data', Buffer.from(buffer.subarray(0, bytes)));
}

/** Back to 'data' events for a socket given to readIntoSharedBuffer(). */
export function emitReadsAsData(socket: Readable): void {
  if (onreadFields === undefined) return;
  const record = socket as unknown as Record<symbol, unknown>;
  if (record[onreadFields.buffer] === sharedBuffer) record[onreadFields.callback] = emitAsData;
}
