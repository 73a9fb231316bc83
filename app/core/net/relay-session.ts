import WebSocket from 'ws';
import { ParleyError } from '../../shared/errors.js';
import {
  decodeFrame,
  decodeRequestIds,
  encodeFrame,
  FrameError,
  MAX_FRAME_BYTES,
  type ClientFrame,
  type FrameOf,
  type ServerFrame,
} from '../../../relay/protocol/index.js';
import { AckCoalescer } from './ack-coalescer.js';
import { RelayReplyError, unreachable } from './errors.js';

type WithoutRequestId<F> = F extends unknown ? Omit<F, 'requestId'> : never;
/** Client frames that get a reply, without the requestId the session assigns. */
export type RelayRequest = WithoutRequestId<Exclude<ClientFrame, { name: 'ACK' | 'ACKS' }>>;
export type RelayReply = FrameOf<'OK'> | FrameOf<'USER'> | FrameOf<'PREKEY_BUNDLE'> | FrameOf<'TOTP_SECRET'> | FrameOf<'TOKEN'>;
/** Frames the relay pushes after authentication. */
export type PushFrame = FrameOf<'DELIVER'> | FrameOf<'DRAINED'> | FrameOf<'PREKEYS_LOW'> | FrameOf<'RECEIPT'>;

interface Pending {
  resolve(reply: RelayReply): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

const MAX_REQUEST_ID = 0xffffffff;

/**
 * One WebSocket connection to the relay: the CHALLENGE, request/reply matched by requestId with timeouts,
 * and pushed frames. Pushed frames are held until a listener is attached, because the relay may push
 * right behind the OK that authenticates the connection.
 */
export class RelaySession {
  readonly challenge: FrameOf<'CHALLENGE'>;
  /** The relay's clock minus ours, as seen when the CHALLENGE arrived. */
  readonly clockSkewMs: number;
  readonly #socket: WebSocket;
  readonly #pending = new Map<number, Pending>();
  #nextRequestId = 1;
  #held: PushFrame[] = [];
  #onPush: ((frame: PushFrame) => void) | undefined;
  #onClose: ((code: number) => void) | undefined;
  #closeCode = 1006;
  #closed = false;
  readonly #acks = new AckCoalescer((frame) => {
    try {
      this.#socket.send(encodeFrame(frame));
    } catch {
      /* the connection is going away; the relay redelivers */
    }
  });

  private constructor(socket: WebSocket, challenge: FrameOf<'CHALLENGE'>) {
    this.#socket = socket;
    this.challenge = challenge;
    this.clockSkewMs = challenge.serverTime - Date.now();
    socket.on('message', (data) => this.#receive(toBytes(data)));
    socket.on('close', (code) => this.#finish(code));
    socket.on('error', () => socket.terminate());
  }

  /** Connect and wait for the relay's CHALLENGE; RELAY_UNREACHABLE on failure or after timeoutMs. */
  static connect(url: string, timeoutMs: number): Promise<RelaySession> {
    return new Promise((resolve, reject) => {
      let socket: WebSocket;
      try {
        socket = new WebSocket(url, { maxPayload: MAX_FRAME_BYTES, handshakeTimeout: timeoutMs });
      } catch {
        reject(unreachable('The relay URL cannot be used'));
        return;
      }
      const fail = (error: ParleyError): void => {
        clearTimeout(timer);
        socket.removeAllListeners();
        socket.on('error', () => undefined);
        socket.terminate();
        reject(error);
      };
      const timer = setTimeout(() => fail(unreachable('The relay did not answer in time')), timeoutMs);
      socket.on('error', () => fail(unreachable()));
      socket.on('close', () => fail(unreachable()));
      socket.once('message', (data) => {
        let frame: ServerFrame;
        try {
          frame = decodeFrame(toBytes(data)) as ServerFrame;
        } catch {
          fail(new ParleyError('RELAY_PROTOCOL_ERROR', 'The relay sent a malformed frame'));
          return;
        }
        if (frame.name !== 'CHALLENGE') {
          fail(new ParleyError('RELAY_PROTOCOL_ERROR', 'The relay did not start with a challenge'));
          return;
        }
        clearTimeout(timer);
        socket.removeAllListeners();
        resolve(new RelaySession(socket, frame));
      });
    });
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Send a request and await its OK or USER; rejects RelayReplyError on ERROR, ParleyError on loss or timeout. */
  request(frame: RelayRequest, timeoutMs: number): Promise<RelayReply> {
    return new Promise((resolve, reject) => {
      if (this.#closed) {
        reject(unreachable('The relay connection is closed'));
        return;
      }
      const requestId = this.#nextRequestId;
      this.#nextRequestId = requestId >= MAX_REQUEST_ID ? 1 : requestId + 1;
      const timer = setTimeout(() => {
        this.#pending.delete(requestId);
        reject(unreachable('The relay did not answer in time'));
      }, timeoutMs);
      this.#pending.set(requestId, { resolve, reject, timer });
      try {
        this.#socket.send(encodeFrame({ ...frame, requestId } as ClientFrame));
      } catch (error) {
        clearTimeout(timer);
        this.#pending.delete(requestId);
        reject(error instanceof FrameError ? new ParleyError('MESSAGE_TOO_LARGE', 'The request does not fit in a frame') : unreachable());
      }
    });
  }

  /**
   * Acknowledge a delivered envelope or a receipt, together with the others of the next few milliseconds
   * (AckCoalescer). Best effort: unacknowledged ones are simply sent again.
   */
  acknowledge(messageId: Uint8Array): void {
    if (!this.#closed) this.#acks.add(messageId);
  }

  /** Receive pushed frames (and any held so far). */
  onPush(listener: (frame: PushFrame) => void): void {
    this.#onPush = listener;
    const held = this.#held;
    this.#held = [];
    for (const frame of held) listener(frame);
  }

  /** The listener gets the WebSocket close code (1006 when the connection dropped without one). */
  onClose(listener: (code: number) => void): void {
    this.#onClose = listener;
    if (this.#closed) listener(this.#closeCode);
  }

  close(): void {
    if (this.#closed) return;
    // What is stored is acknowledged before the goodbye, so the next connection does not get it again.
    this.#acks.flush();
    this.#socket.close(1000);
    // A peer that does not complete the closing handshake is cut off.
    setTimeout(() => this.#socket.terminate(), 1000).unref();
    this.#finish(1000);
  }

  #receive(bytes: Uint8Array): void {
    let frame: ServerFrame;
    try {
      frame = decodeFrame(bytes) as ServerFrame;
    } catch {
      this.#socket.terminate();
      return;
    }
    switch (frame.name) {
      case 'OK':
      case 'USER':
      case 'PREKEY_BUNDLE':
      case 'TOTP_SECRET':
      case 'TOKEN':
        this.#settle(frame.requestId, (pending) => pending.resolve(frame));
        return;
      case 'OKS': {
        const requestIds = decodeRequestIds(frame.requestIds);
        if (requestIds === undefined) {
          this.#socket.terminate();
          return;
        }
        for (const requestId of requestIds) this.#settle(requestId, (pending) => pending.resolve({ name: 'OK', requestId }));
        return;
      }
      case 'ERROR':
        if (frame.requestId === 0) return; // a connection-level error; the relay closes the socket next
        this.#settle(frame.requestId, (pending) => pending.reject(RelayReplyError.fromFrame(frame)));
        return;
      case 'DELIVER':
      case 'DRAINED':
      case 'PREKEYS_LOW':
      case 'RECEIPT':
        if (this.#onPush === undefined) this.#held.push(frame);
        else this.#onPush(frame);
        return;
      case 'CHALLENGE':
        return; // only the first CHALLENGE means anything
      default:
        // Exhaustive over server frames; a client-only frame from the relay is a protocol violation, not a crash.
        void (frame satisfies never);
        this.#socket.terminate();
    }
  }

  #settle(requestId: number, action: (pending: Pending) => void): void {
    const pending = this.#pending.get(requestId);
    if (pending === undefined) return;
    this.#pending.delete(requestId);
    clearTimeout(pending.timer);
    action(pending);
  }

  #finish(code = 1006): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#closeCode = code;
    this.#acks.drop();
    for (const [, pending] of this.#pending) {
      clearTimeout(pending.timer);
      pending.reject(unreachable('The relay connection was lost'));
    }
    this.#pending.clear();
    this.#held = [];
    this.#onClose?.(code);
  }
}

function toBytes(data: WebSocket.RawData): Uint8Array {
  if (Array.isArray(data)) return Uint8Array.from(Buffer.concat(data));
  if (data instanceof ArrayBuffer) return new Uint8Array(data.slice(0));
  // Copy: decoded fields must not alias ws's reusable buffers.
  return Uint8Array.from(data);
}
