import { randomBytes } from 'node:crypto';
import { WebSocket, type RawData } from 'ws';
import { CloseCode, FrameError, NONCE_BYTES, decodeFrame, encodeFrame, type Frame, type FrameOf, type ServerFrame } from '../protocol/index.js';
import { handleAuth, handleRegister } from './handlers/auth.js';
import { handleLookup } from './handlers/directory.js';
import { handleAck, handleSend } from './handlers/messages.js';
import { handleFetchPrekeys, handlePublishOneTimePrekeys, handlePublishPqPrekeys, handlePublishSignedPrekey, lowStockNotice } from './handlers/prekeys.js';
import { describeError, type Log } from './log.js';
import { missingCaseError } from './missing-case.js';
import type { ResolvedRelayOptions } from './options.js';
import { deliverFrame, errorFrame, okFrame } from './replies.js';
import type { Peer, Router } from './router.js';
import type { RelayStore } from './store/ports.js';

export interface ConnectionDeps {
  readonly store: RelayStore;
  readonly router: Router;
  readonly options: ResolvedRelayOptions;
  readonly log: Log;
}

/** Queued envelopes are read in pages so a long queue never sits in memory at once. */
const DRAIN_PAGE_SIZE = 256;

type State =
  | { readonly kind: 'awaiting-auth'; readonly nonce: Uint8Array; readonly timer: NodeJS.Timeout }
  | { readonly kind: 'authenticated'; readonly username: string }
  | { readonly kind: 'closed' };

type CredentialFrame = FrameOf<'REGISTER'> | FrameOf<'AUTH'>;
type RequestFrame = Exclude<Frame, CredentialFrame>;

/** A plain Uint8Array over the received bytes, so the codec's slices copy out of ws's buffers. */
function toBytes(data: RawData): Uint8Array {
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  const buffer = Array.isArray(data) ? Buffer.concat(data) : data;
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}

function errorCode(error: Error): string {
  return 'code' in error && typeof error.code === 'string' ? error.code : error.name;
}

/** One client socket: challenge, authentication, then requests. Nothing a client sends can throw out of here. */
export class Connection implements Peer {
  private state: State;
  /** Settles when the socket has closed. */
  readonly closed: Promise<void>;

  constructor(
    private readonly socket: WebSocket,
    private readonly deps: ConnectionDeps,
    readonly id: number,
  ) {
    // Without an 'error' listener, one bad frame on this socket would crash the process.
    socket.on('error', (error) => deps.log('socket_error', { conn: id, code: errorCode(error) }));
    this.closed = new Promise((resolve) => {
      socket.once('close', () => {
        this.release();
        resolve();
      });
    });
    socket.on('message', (data, isBinary) => this.onMessage(data, isBinary));

    const nonce = new Uint8Array(randomBytes(NONCE_BYTES));
    const timer = setTimeout(() => this.close(CloseCode.POLICY_VIOLATION, 'authentication timed out'), deps.options.authTimeoutMs);
    this.state = { kind: 'awaiting-auth', nonce, timer };
    this.send({ name: 'CHALLENGE', requestId: 0, nonce, serverTime: Date.now() });
  }

  deliver(frame: FrameOf<'DELIVER'>): void {
    this.send(frame);
  }

  notify(frame: FrameOf<'PREKEYS_LOW'>): void {
    this.send(frame);
  }

  replace(): void {
    this.close(CloseCode.REPLACED, 'replaced by a newer connection');
  }

  /** Ask the client to go away; the relay is stopping. */
  shutdown(): void {
    this.close(CloseCode.GOING_AWAY, 'relay shutting down');
  }

  /** Drop the socket without a closing handshake (a client that ignored shutdown). */
  terminate(): void {
    this.release();
    this.socket.terminate();
  }

  private onMessage(data: RawData, isBinary: boolean): void {
    if (this.state.kind === 'closed') return;
    let requestId = 0;
    try {
      if (!isBinary) {
        this.refuse(errorFrame(0, 'PROTO_MALFORMED_FRAME', 'frames must be binary'), CloseCode.UNSUPPORTED_DATA);
        return;
      }
      const frame = this.decode(data);
      if (frame === undefined) return;
      requestId = frame.requestId;
      this.dispatch(frame);
    } catch (error) {
      this.deps.log('internal_error', { conn: this.id, ...describeError(error) });
      this.send(errorFrame(requestId, 'INTERNAL', 'internal error'));
      if (this.state.kind === 'awaiting-auth') this.close(CloseCode.INTERNAL_ERROR, 'internal error');
    }
  }

  /** The frame, or undefined after answering bytes that are not one (ERROR with the codec's code, then close). */
  private decode(data: RawData): Frame | undefined {
    try {
      return decodeFrame(toBytes(data), this.deps.options.maxFrameBytes);
    } catch (error) {
      if (!(error instanceof FrameError)) throw error;
      this.deps.log('frame_rejected', { conn: this.id, code: error.code });
      this.refuse(errorFrame(0, error.code, error.message), CloseCode.PROTOCOL_ERROR);
      return undefined;
    }
  }

  private dispatch(frame: Frame): void {
    if (frame.name === 'REGISTER' || frame.name === 'AUTH') {
      this.onCredentials(frame);
      return;
    }
    if (this.state.kind !== 'authenticated') {
      this.send(errorFrame(frame.requestId, 'AUTH_REQUIRED', 'send REGISTER or AUTH first'));
      return;
    }
    this.onRequest(frame, this.state.username);
  }

  private onCredentials(frame: CredentialFrame): void {
    const state = this.state;
    if (state.kind === 'authenticated') {
      this.send(errorFrame(frame.requestId, 'AUTH_ALREADY', 'this connection is already authenticated'));
      return;
    }
    if (state.kind === 'closed') return;
    const { users } = this.deps.store;
    const outcome =
      frame.name === 'REGISTER' ? handleRegister(frame, state.nonce, users, Date.now()) : handleAuth(frame, state.nonce, users);
    if (!outcome.ok) {
      // The nonce is single-use: a failed attempt ends the connection, and a retry gets a fresh CHALLENGE.
      this.deps.log('auth_failed', { conn: this.id, code: outcome.error.code });
      this.refuse(outcome.error, CloseCode.POLICY_VIOLATION);
      return;
    }
    clearTimeout(state.timer);
    this.state = { kind: 'authenticated', username: outcome.username };
    this.deps.router.attach(outcome.username, this);
    this.send(okFrame(frame.requestId));
    this.drain(outcome.username);
  }

  private onRequest(frame: RequestFrame, username: string): void {
    const { store, router, options } = this.deps;
    switch (frame.name) {
      case 'LOOKUP':
        this.send(handleLookup(frame, store.users));
        return;
      case 'SEND': {
        const outcome = handleSend(frame, store, options.maxQueuedPerUser, Date.now());
        this.send(outcome.reply);
        if (outcome.push !== undefined) router.get(outcome.push.to)?.deliver(outcome.push.frame);
        return;
      }
      case 'ACK':
        handleAck(frame, username, store);
        return;
      case 'PUBLISH_SIGNED_PREKEY':
        this.send(handlePublishSignedPrekey(frame, username, store, Date.now()));
        return;
      case 'PUBLISH_ONE_TIME_PREKEYS':
        this.send(handlePublishOneTimePrekeys(frame, username, store));
        return;
      case 'PUBLISH_PQ_PREKEYS':
        this.send(handlePublishPqPrekeys(frame, username, store));
        return;
      case 'FETCH_PREKEYS': {
        const outcome = handleFetchPrekeys(frame, store);
        this.send(outcome.reply);
        if (outcome.notify !== undefined) router.get(outcome.notify.to)?.notify(outcome.notify.frame);
        return;
      }
      case 'CHALLENGE':
      case 'OK':
      case 'ERROR':
      case 'USER':
      case 'DELIVER':
      case 'DRAINED':
      case 'PREKEY_BUNDLE':
      case 'PREKEYS_LOW':
        this.send(errorFrame(frame.requestId, 'PROTO_UNEXPECTED_FRAME', `${frame.name} is sent by the relay, not to it`));
        return;
      default:
        throw missingCaseError(frame);
    }
  }

  /** Every envelope waiting for this user, in arrival order, then DRAINED. Runs in one tick, so no push can interleave. */
  private drain(username: string): void {
    let count = 0;
    let afterSeq = 0;
    for (;;) {
      const page = this.deps.store.queue.page(username, afterSeq, DRAIN_PAGE_SIZE);
      for (const item of page) this.send(deliverFrame(item));
      count += page.length;
      const last = page.at(-1);
      if (last === undefined || page.length < DRAIN_PAGE_SIZE) break;
      afterSeq = last.seq;
    }
    this.send({ name: 'DRAINED', requestId: 0, count });
    const notice = lowStockNotice(this.deps.store.prekeys.counts(username));
    if (notice !== undefined) this.send(notice);
  }

  private send(frame: ServerFrame): void {
    if (this.socket.readyState !== WebSocket.OPEN) return;
    try {
      this.socket.send(encodeFrame(frame));
    } catch (error) {
      this.deps.log('send_failed', { conn: this.id, frame: frame.name, ...describeError(error) });
    }
  }

  /** Answer with an ERROR, then close: the ERROR is queued ahead of the close frame. */
  private refuse(error: FrameOf<'ERROR'>, code: CloseCode): void {
    this.send(error);
    this.close(code, error.code);
  }

  private close(code: CloseCode, reason: string): void {
    this.release();
    this.socket.close(code, reason);
  }

  /** Leave the online map and stop the auth timer; safe to call more than once. */
  private release(): void {
    const state = this.state;
    if (state.kind === 'awaiting-auth') clearTimeout(state.timer);
    if (state.kind === 'authenticated') this.deps.router.detach(state.username, this);
    this.state = { kind: 'closed' };
  }
}
