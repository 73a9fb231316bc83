import { randomBytes } from 'node:crypto';
import type { RawData, WebSocket } from 'ws';
import {
  CloseCode,
  FrameError,
  MAX_ACKS_PER_FRAME,
  MESSAGE_ID_BYTES,
  NONCE_BYTES,
  decodeFrame,
  decodeMessageIds,
  type Frame,
  type FrameOf,
  type ServerFrame,
} from '../protocol/index.js';
import { handleAuth, handleRegister, handleRegisterLocked, handleResume, type AuthOutcome } from './handlers/auth.js';
import { handleTotpDisable, handleTotpEnable, handleTotpSetup } from './handlers/totp.js';
import { handleLookup } from './handlers/directory.js';
import { handleFetchPrekeys, handlePublishOneTimePrekeys, handlePublishPqPrekeys, handlePublishSignedPrekey } from './handlers/prekeys.js';
import { acceptAck } from './delivery/acks.js';
import type { DeliveryClient, DeliveryDeps } from './delivery/client.js';
import { drainQueue, type DrainTarget } from './delivery/queue-drain.js';
import { acceptSend } from './delivery/sends.js';
import { describeError, type Log } from './log.js';
import { missingCaseError } from './missing-case.js';
import type { RateLimitName } from './options.js';
import type { OkPacer } from './ok-pacer.js';
import type { FrameListener } from './frame-reader.js';
import { Outbox, type Transport } from './outbox.js';
import { errorFrame, okFrame } from './replies.js';
import type { Peer } from './router.js';
import { STORAGE_FULL_RETRY_MS, type StorageAlarm } from './store/storage-full.js';
import type { ReceiptPeer } from './receipts.js';
import type { TokenService } from './tokens.js';

/** What every connection shares: the relay's parts, and its options. */
export interface ConnectionDeps extends DeliveryDeps {
  readonly log: Log;
  /** Counts and logs writes refused because the disk or the database's cap is full. */
  readonly storage: StorageAlarm;
  readonly tokens: TokenService;
  /** Writes OKs that leave on their own a few sockets per turn. */
  readonly okPacer: OkPacer;
  /** Called once the socket has closed (shared by every connection, so none carries a closure of its own for it). */
  onClosed(connection: Connection): void;
}

type State =
  | { readonly kind: 'awaiting-auth'; readonly nonce: Uint8Array; readonly timer: NodeJS.Timeout }
  | { readonly kind: 'authenticated'; readonly username: string }
  | { readonly kind: 'closed' };

type CredentialFrame = FrameOf<'REGISTER'> | FrameOf<'REGISTER_INVITE'> | FrameOf<'REGISTER_LOCKED'> | FrameOf<'AUTH'> | FrameOf<'RESUME'>;
type RequestFrame = Exclude<Frame, CredentialFrame>;

/** Longest a connection goes unread after a rate-limit refusal. */
const REFUSAL_PAUSE_MS = 1_000;

/** The per-user budgets a request is counted against before it is handled, and what a refused one is told. */
type UserBudget = Extract<RateLimitName, 'lookups' | 'requests' | 'totp'>;
const REFUSED: Readonly<Record<UserBudget, string>> = {
  lookups: 'too many usernames looked up',
  requests: 'too many requests',
  totp: 'too many registration-lock codes tried',
};

/** A message as ws's receiver hands it on, or as the frame reader does (a copy of its payload). */
type Received = RawData | Uint8Array;

/** The received bytes. Nothing writes to them once handed on, so decoded fields may be views into them. */
function toBytes(data: Received): Uint8Array {
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return Array.isArray(data) ? Buffer.concat(data) : data;
}

function errorCode(error: Error): string {
  return 'code' in error && typeof error.code === 'string' ? error.code : error.name;
}

const kConnection = Symbol('connection');

/** A client's WebSocket, with the Connection that serves it. */
type ServedSocket = WebSocket & { [kConnection]?: Connection };

// The socket's listeners, shared by every connection (each finds its own through the socket), so none carries closures
// of its own: an idle connection is mostly what it keeps.
function onSocketError(this: ServedSocket, error: Error): void {
  this[kConnection]?.socketFailed(error);
}

function onSocketClose(this: ServedSocket): void {
  this[kConnection]?.socketEnded();
}

function onSocketMessage(this: ServedSocket, data: RawData, isBinary: boolean): void {
  this[kConnection]?.received(data, isBinary);
}

function onSocketPong(this: ServedSocket): void {
  this[kConnection]?.ponged();
}

/** One client socket: challenge, authentication, then requests. Nothing a client sends can throw out of here. */
export class Connection implements Peer, ReceiptPeer, DeliveryClient, DrainTarget, FrameListener {
  private state: State;
  /** The socket has closed. */
  private socketClosed = false;
  /** Who waits for the close (whenClosed); made only when someone asks, so an open connection carries no promise. */
  private closeWaiters: Array<() => void> | undefined;
  /** Frames read while an earlier one was still being handled, oldest first; handled strictly in order. Only while pumping. */
  private backlog: Array<readonly [Received, boolean]> | undefined;
  /** True while pump() runs (an async handler is pending); pumped settles when it has emptied the backlog. */
  private pumping = false;
  private pumped: Promise<void> | undefined;
  /** Paused by the relay (backlog full or shutting down), not by the client. */
  private readingPaused = false;
  /** Set while reading waits after a rate-limit refusal (see rateLimited). */
  private refusalPause: NodeJS.Timeout | undefined;
  private stopped = false;
  /** Cleared on each ping, set by the pong (or any frame): a socket still false at the next ping is gone. */
  private alive = true;
  /** While the queue is being flushed, pushes are left to the flush, which reads them from the database in order. */
  private draining = false;
  /** This user's receipt box once authenticated, as ReceiptBoxes keys it (hex). */
  private boxKey: string | undefined;
  private readonly outbox: Outbox;

  constructor(
    private readonly socket: WebSocket,
    private readonly deps: ConnectionDeps,
    readonly id: number,
    /** The client's address, for the per-IP registration limit. */
    private readonly ip: string,
    /** The TCP (or TLS) socket under the WebSocket: the outbox writes its frames there, those of one turn corked together. */
    transport: Transport,
  ) {
    this.outbox = new Outbox(socket, transport, deps, this);
    (socket as ServedSocket)[kConnection] = this;
    // Without an 'error' listener, one bad frame on this socket would crash the process.
    socket.on('error', onSocketError);
    // 'close' comes once: on(), not once(), which would wrap the listener in a bound function of its own.
    socket.on('close', onSocketClose);
    // What ws's receiver reads comes here; readFramesDirectly() takes over the frames a client sends all the time.
    socket.on('message', onSocketMessage);
    socket.on('pong', onSocketPong);

    const nonce = new Uint8Array(randomBytes(NONCE_BYTES));
    const timer = setTimeout(() => this.close(CloseCode.POLICY_VIOLATION, 'authentication timed out'), deps.options.authTimeoutMs);
    this.state = { kind: 'awaiting-auth', nonce, timer };
    this.send({ name: 'CHALLENGE', requestId: 0, nonce, serverTime: deps.options.now() });
  }

  /** ws reported an error on the socket (it closes the socket next). */
  socketFailed(error: Error): void {
    this.deps.log('socket_error', { conn: this.id, code: errorCode(error) });
  }

  /** The socket has closed: leave the online maps, and settle whoever waits for it. */
  socketEnded(): void {
    this.release();
    this.socketClosed = true;
    this.deps.onClosed(this);
    for (const resolve of this.closeWaiters?.splice(0) ?? []) resolve();
  }

  /** Settles when the socket has closed. */
  whenClosed(): Promise<void> {
    if (this.socketClosed) return Promise.resolve();
    return new Promise((resolve) => (this.closeWaiters ??= []).push(resolve));
  }

  // What delivering envelopes needs of a connection (DeliveryClient, DrainTarget): the SEND, ACK and drain paths live
  // in delivery/.

  get receiptBoxKey(): string | undefined {
    return this.boxKey;
  }

  get closed(): boolean {
    return this.state.kind === 'closed';
  }

  get bufferedAmount(): number {
    return this.socket.bufferedAmount;
  }

  flushed(): Promise<void> {
    return this.outbox.flushed();
  }

  drained(): void {
    this.draining = false;
  }

  deliver(frame: FrameOf<'DELIVER'>): boolean {
    if (this.draining || this.state.kind !== 'authenticated') return false;
    return this.send(frame);
  }

  deliverReceipt(frame: FrameOf<'RECEIPT'>): void {
    if (!this.draining) this.send(frame);
  }

  notify(frame: FrameOf<'PREKEYS_LOW'>): void {
    this.send(frame);
  }

  replace(): void {
    this.close(CloseCode.REPLACED, 'replaced by a newer connection');
  }

  /** Called every pingIntervalMs: close a banned user's socket, cut off one that did not answer the previous ping, ping the others. */
  heartbeat(): void {
    if (this.state.kind === 'closed') return;
    if (this.state.kind === 'authenticated' && this.deps.store.users.bannedAt(this.state.username) !== undefined) {
      // A ban made by the admin tool (another process) reaches live connections here.
      this.refuse(errorFrame(0, 'AUTH_BANNED', "this account has been banned by the relay's operator"), CloseCode.POLICY_VIOLATION);
      return;
    }
    if (!this.alive) {
      this.deps.log('idle_cut_off', { conn: this.id });
      this.deps.metrics.countCut('idle');
      this.close(CloseCode.IDLE_TIMEOUT, 'no answer to ping');
      // It did not answer a ping, so it will not answer the closing handshake either.
      this.socket.terminate();
      return;
    }
    this.alive = false;
    this.socket.ping();
  }

  /** Stop reading new frames and settle once the frames already read are handled (graceful shutdown). */
  async quiesce(): Promise<void> {
    this.stopped = true;
    this.socket.pause();
    await this.pumped;
  }

  /** Ask the client to go away; the relay is stopping. */
  shutdown(): void {
    this.close(CloseCode.GOING_AWAY, 'relay shutting down');
    // Read again so the client's closing frame arrives; frames after it are ignored (the state is closed).
    this.socket.resume();
  }

  /** Drop the socket without a closing handshake (a client that ignored shutdown). */
  terminate(): void {
    this.release();
    this.socket.terminate();
  }

  ponged(): void {
    this.alive = true;
  }

  readFailed(error: unknown): void {
    this.deps.log('internal_error', { conn: this.id, ...describeError(error) });
    this.terminate();
  }

  /** A frame is handled at once, unless an earlier one is still being handled: then it waits its turn in the backlog. */
  received(data: Received, isBinary: boolean): void {
    // Under a flood the event loop may not reach its timers and immediates for seconds: commits and OKs due go from here.
    const now = performance.now();
    this.deps.writes.runOverdue(now);
    this.deps.okPacer.runOverdue(now);
    if (this.state.kind === 'closed') return;
    this.alive = true;
    if (!this.pumping) {
      const pending = this.handle(data, isBinary);
      if (pending !== undefined) this.pumped = this.pump(pending);
      return;
    }
    const backlog = (this.backlog ??= []);
    backlog.push([data, isBinary]);
    if (backlog.length >= this.deps.options.maxPipelinedFrames && !this.readingPaused) {
      // A client that sends faster than it is served waits in TCP, not in the relay's memory.
      this.readingPaused = true;
      this.socket.pause();
      this.deps.metrics.countPaused('backlog');
    }
  }

  /** Wait for a frame's handler, then handle the backlog in order; rate-limited frames wait for their limiter. */
  private async pump(first: Promise<void>): Promise<void> {
    this.pumping = true;
    try {
      await first;
      for (let next = this.backlog?.shift(); next !== undefined; next = this.backlog?.shift()) {
        const pending = this.handle(next[0], next[1]);
        if (pending !== undefined) await pending;
        if (this.readingPaused && (this.backlog?.length ?? 0) < this.deps.options.maxPipelinedFrames / 2) {
          this.readingPaused = false;
          this.resumeReading();
        }
      }
    } finally {
      this.pumping = false;
      // An idle connection keeps no array, nor a settled promise.
      this.backlog = undefined;
      this.pumped = undefined;
    }
  }

  private handle(data: Received, isBinary: boolean): Promise<void> | undefined {
    if (this.state.kind === 'closed') return undefined;
    let requestId = 0;
    try {
      if (!isBinary) {
        this.refuse(errorFrame(0, 'PROTO_MALFORMED_FRAME', 'frames must be binary'), CloseCode.UNSUPPORTED_DATA);
        return undefined;
      }
      const frame = this.decode(data);
      if (frame === undefined) return undefined;
      requestId = frame.requestId;
      this.deps.metrics.frameIn(frame.name);
      const pending = this.dispatch(frame);
      // The closure is made only for a frame still being handled: most are done by now.
      return pending === undefined ? undefined : pending.catch((error: unknown) => this.failed(requestId, error));
    } catch (error) {
      this.failed(requestId, error);
      return undefined;
    }
  }

  /** A handler threw: the client is told why for that request (and a connection not yet authenticated is closed). */
  private failed(requestId: number, error: unknown): void {
    const full = this.answerFailure(requestId, error);
    if (this.state.kind !== 'awaiting-auth') return;
    if (full) this.close(CloseCode.TRY_AGAIN_LATER, 'storage full');
    else this.close(CloseCode.INTERNAL_ERROR, 'internal error');
  }

  /**
   * A request's work failed: STORAGE_FULL, with when to try again, if the disk or the database's cap is full (nothing
   * was stored); INTERNAL, logged, for anything else. True for STORAGE_FULL.
   */
  answerFailure(requestId: number, error: unknown): boolean {
    if (this.deps.storage.refused(error)) {
      this.send(errorFrame(requestId, 'STORAGE_FULL', 'the relay is out of storage; try again later', STORAGE_FULL_RETRY_MS));
      return true;
    }
    this.deps.log('internal_error', { conn: this.id, req: requestId, ...describeError(error) });
    this.send(errorFrame(requestId, 'INTERNAL', 'internal error'));
    return false;
  }

  /** The frame, or undefined after answering bytes that are not one (ERROR with the codec's code, then close). */
  private decode(data: Received): Frame | undefined {
    try {
      return decodeFrame(toBytes(data), this.deps.options.maxFrameBytes, false);
    } catch (error) {
      if (!(error instanceof FrameError)) throw error;
      this.deps.log('frame_rejected', { conn: this.id, code: error.code });
      this.refuse(errorFrame(0, error.code, error.message), CloseCode.PROTOCOL_ERROR);
      return undefined;
    }
  }

  private dispatch(frame: Frame): Promise<void> | undefined {
    if (
      frame.name === 'REGISTER' ||
      frame.name === 'REGISTER_INVITE' ||
      frame.name === 'REGISTER_LOCKED' ||
      frame.name === 'AUTH' ||
      frame.name === 'RESUME'
    ) {
      return this.onCredentials(frame);
    }
    if (this.state.kind !== 'authenticated') {
      this.send(errorFrame(frame.requestId, 'AUTH_REQUIRED', 'send REGISTER or AUTH first'));
      return undefined;
    }
    return this.onRequest(frame, this.state.username);
  }

  private async onCredentials(frame: CredentialFrame): Promise<void> {
    if (this.state.kind === 'authenticated') {
      this.send(errorFrame(frame.requestId, 'AUTH_ALREADY', 'this connection is already authenticated'));
      return;
    }
    if (this.state.kind === 'closed') return;
    const { users } = this.deps.store;
    if ((frame.name === 'REGISTER' || frame.name === 'REGISTER_INVITE') && users.find(frame.username) === undefined) {
      const retryAfterMs = await this.deps.limiter.take('registrations', this.ip);
      if (retryAfterMs > 0) {
        this.deps.log('registration_limited', { conn: this.id });
        this.refuse(errorFrame(frame.requestId, 'RATE_LIMITED', 'too many registrations from this address', retryAfterMs), CloseCode.TRY_AGAIN_LATER);
        return;
      }
    }
    if (frame.name === 'REGISTER_LOCKED') {
      const retryAfterMs = await this.deps.limiter.take('totp', frame.username);
      if (retryAfterMs > 0) {
        this.refuse(errorFrame(frame.requestId, 'RATE_LIMITED', 'too many registration-lock codes tried', retryAfterMs), CloseCode.TRY_AGAIN_LATER);
        return;
      }
    }
    const { store, options } = this.deps;
    let outcome: AuthOutcome;
    if (frame.name === 'RESUME') {
      outcome = await handleResume(frame, this.deps.tokens, store);
    } else if (this.state.kind !== 'awaiting-auth') {
      return;
    } else if (frame.name === 'AUTH') {
      outcome = handleAuth(frame, this.state.nonce, store);
    } else {
      const nonce = this.state.nonce;
      outcome = await this.committed(() =>
        frame.name === 'REGISTER_LOCKED' ? handleRegisterLocked(frame, nonce, store, options.now()) : handleRegister(frame, nonce, store, options.registration, options.now()),
      );
    }
    const state = this.state;
    // The socket may have closed while the limiter or the token check answered.
    if (state.kind !== 'awaiting-auth') return;
    if (!outcome.ok) {
      // The nonce is single-use: a failed attempt ends the connection, and a retry gets a fresh CHALLENGE.
      this.deps.log('auth_failed', { conn: this.id, code: outcome.error.code });
      this.refuse(outcome.error, CloseCode.POLICY_VIOLATION);
      return;
    }
    clearTimeout(state.timer);
    this.state = { kind: 'authenticated', username: outcome.username };
    this.deps.log('authenticated', { conn: this.id, user: outcome.username });
    this.deps.router.attach(outcome.username, this);
    this.boxKey = this.deps.receipts.attach(outcome.username, this);
    this.send(okFrame(frame.requestId));
    // Pushes wait meanwhile: the drain reads them from the database, in order.
    this.draining = true;
    void drainQueue(this.deps, this, outcome.username).catch((error: unknown) => {
      this.deps.log('drain_failed', { conn: this.id, ...describeError(error) });
      this.close(CloseCode.INTERNAL_ERROR, 'internal error');
    });
  }

  private onRequest(frame: RequestFrame, username: string): Promise<void> | undefined {
    // Any reply follows the commit of the client's earlier ACKs (a SEND's OK does anyway: it commits with them).
    if (frame.name !== 'ACK' && frame.name !== 'ACKS' && frame.name !== 'SEND' && frame.name !== 'SEND_EXPIRING' && frame.name !== 'SEND_WITH_RECEIPT') {
      this.deps.writes.flush();
    }
    switch (frame.name) {
      case 'LOOKUP':
        // It answers whether a name exists: a budget of its own, so nobody walks the directory name by name.
        return this.limited('lookups', username, frame.requestId, () => void this.send(handleLookup(frame, this.deps.store.users)));
      case 'TOTP_SETUP':
        return this.limited('requests', username, frame.requestId, () => this.answerCommitted(() => handleTotpSetup(frame, username, this.deps.store.locks)));
      case 'TOTP_ENABLE':
      case 'TOTP_DISABLE':
        // A code tried.
        return this.limited('totp', username, frame.requestId, () => this.onTotp(frame, username));
      case 'TOKEN_REQUEST':
        return this.limited('requests', username, frame.requestId, async () => {
          const { token, expiresAt } = await this.deps.tokens.issue(username);
          this.send({ name: 'TOKEN', requestId: frame.requestId, token, expiresAt });
        });
      case 'SEND':
      case 'SEND_EXPIRING':
      case 'SEND_WITH_RECEIPT':
        return acceptSend(this.deps, this, frame, username);
      case 'ACK':
        acceptAck(this.deps, this, frame.messageId, frame.requestId, username);
        return undefined;
      case 'ACKS':
        this.onAcks(frame, username);
        return undefined;
      case 'PUBLISH_SIGNED_PREKEY':
        return this.limited('requests', username, frame.requestId, () => this.answerCommitted(() => handlePublishSignedPrekey(frame, username, this.deps.store, Date.now())));
      case 'PUBLISH_ONE_TIME_PREKEYS':
        return this.limited('requests', username, frame.requestId, () => this.answerCommitted(() => handlePublishOneTimePrekeys(frame, username, this.deps.store)));
      case 'PUBLISH_PQ_PREKEYS':
        return this.limited('requests', username, frame.requestId, () => this.answerCommitted(() => handlePublishPqPrekeys(frame, username, this.deps.store)));
      case 'FETCH_PREKEYS':
        return this.onFetchPrekeys(frame, username);
      case 'CHALLENGE':
      case 'OK':
      case 'OKS':
      case 'ERROR':
      case 'USER':
      case 'DELIVER':
      case 'DRAINED':
      case 'TOKEN':
      case 'RECEIPT':
      case 'TOTP_SECRET':
      case 'PREKEY_BUNDLE':
      case 'PREKEYS_LOW':
        this.send(errorFrame(frame.requestId, 'PROTO_UNEXPECTED_FRAME', `${frame.name} is sent by the relay, not to it`));
        return undefined;
      default:
        throw missingCaseError(frame);
    }
  }

  /** Count a request against one of the user's budgets, then handle it; past the budget it is answered RATE_LIMITED and not handled. */
  private async limited(budget: UserBudget, username: string, requestId: number, handle: () => Promise<void> | void): Promise<void> {
    const retryAfterMs = await this.deps.limiter.take(budget, username);
    if (retryAfterMs > 0) this.rateLimited(requestId, REFUSED[budget], retryAfterMs);
    else await handle();
  }

  /**
   * Answer a request refused by a rate limit, and read nothing more from this socket for a while (up to
   * REFUSAL_PAUSE_MS): a refusal is cheap and immediate, so a client that keeps sending would otherwise have the relay
   * answering refusals as fast as it can send them. A client that waits as it is told loses nothing.
   */
  rateLimited(requestId: number, message: string, retryAfterMs: number): void {
    this.send(errorFrame(requestId, 'RATE_LIMITED', message, retryAfterMs));
    if (this.refusalPause !== undefined || this.state.kind === 'closed') return;
    this.socket.pause();
    this.deps.metrics.countPaused('refusal');
    this.refusalPause = setTimeout(() => {
      this.refusalPause = undefined;
      this.resumeReading();
    }, Math.min(retryAfterMs, REFUSAL_PAUSE_MS));
  }

  /** Read again, unless something else still holds reading back. */
  private resumeReading(): void {
    if (this.readingPaused || this.stopped || this.refusalPause !== undefined || this.state.kind === 'closed') return;
    this.socket.resume();
  }

  /**
   * FETCH_PREKEYS hands out one of the target's one-time keys: limited per target (nobody drains another's stock) and
   * within the per-identity message limit (nobody sweeps everyone's at wire speed).
   */
  private async onFetchPrekeys(frame: FrameOf<'FETCH_PREKEYS'>, username: string): Promise<void> {
    const [perTarget, overall] = await Promise.all([
      this.deps.limiter.take('prekeyFetches', `${username} ${frame.username}`),
      this.deps.limiter.take('messages', username),
    ]);
    const retryAfterMs = Math.max(perTarget, overall);
    if (retryAfterMs > 0) {
      this.rateLimited(frame.requestId, 'too many prekey bundles fetched', retryAfterMs);
      return;
    }
    const outcome = await this.committed(() => handleFetchPrekeys(frame, this.deps.store));
    this.send(outcome.reply);
    if (outcome.notify !== undefined) this.deps.router.get(outcome.notify.to)?.notify(outcome.notify.frame);
  }

  /** TOTP_ENABLE or TOTP_DISABLE, within the user's totp budget. */
  private async onTotp(frame: FrameOf<'TOTP_ENABLE'> | FrameOf<'TOTP_DISABLE'>, username: string): Promise<void> {
    const { locks } = this.deps.store;
    const now = this.deps.options.now();
    this.send(await this.committed(() => (frame.name === 'TOTP_ENABLE' ? handleTotpEnable(frame, username, locks, now) : handleTotpDisable(frame, username, locks, now))));
  }

  /**
   * A handler that writes runs as one unit of the next group commit: its writes land together or not at all, and its
   * result comes once the commit is durable, so a reply still promises its write survives a power cut while the disk's
   * flush runs off the event loop. Rejects if the handler throws or the commit fails.
   */
  private committed<T>(handle: () => T): Promise<T> {
    const { store, writes } = this.deps;
    return new Promise<T>((resolve, reject) => writes.submit(() => store.atomically(handle), resolve, reject));
  }

  /** committed(), then the handler's reply to the client. */
  private answerCommitted(handle: () => ServerFrame): Promise<void> {
    return this.committed(handle).then((reply) => {
      this.send(reply);
    });
  }

  /** ACKS: each id as its own ACK. Ids that are not whole, or too many, are a malformed frame. */
  private onAcks(frame: FrameOf<'ACKS'>, username: string): void {
    const ids = decodeMessageIds(frame.messageIds);
    if (ids === undefined) {
      this.refuse(errorFrame(frame.requestId, 'PROTO_MALFORMED_FRAME', `messageIds must be 1 to ${MAX_ACKS_PER_FRAME} ids of ${MESSAGE_ID_BYTES} bytes`), CloseCode.PROTOCOL_ERROR);
      return;
    }
    for (const messageId of ids) acceptAck(this.deps, this, messageId, frame.requestId, username);
  }

  /** A held envelope this connection sent is stored, or acked: its OK. */
  heldSettled(requestId: number): void {
    this.send(okFrame(requestId));
  }

  heldFailed(requestId: number, error: unknown, delivered: boolean): void {
    if (!delivered) {
      this.answerFailure(requestId, error);
      return;
    }
    // Acked, the envelope is with its recipient whatever became of the write: the sender may count it sent.
    if (!this.deps.storage.refused(error)) this.deps.log('internal_error', { conn: this.id, req: requestId, ...describeError(error) });
    this.send(okFrame(requestId));
  }

  /** False if the frame could not be handed to the socket. */
  send(frame: ServerFrame): boolean {
    return this.outbox.send(frame);
  }

  /** Answer with an ERROR, then close: the ERROR is queued ahead of the close frame. */
  private refuse(error: FrameOf<'ERROR'>, code: CloseCode): void {
    this.send(error);
    this.close(code, error.code);
  }

  private close(code: CloseCode, reason: string): void {
    // OKs owed go ahead of the closing frame (a relay shutting down settles its held envelopes first).
    this.outbox.flushOks();
    this.release();
    this.socket.close(code, reason);
  }

  /** Leave the online map and stop the auth timer; safe to call more than once. */
  private release(): void {
    clearTimeout(this.refusalPause);
    const state = this.state;
    if (state.kind === 'awaiting-auth') clearTimeout(state.timer);
    if (state.kind === 'authenticated') this.deps.router.detach(state.username, this);
    if (this.boxKey !== undefined) this.deps.receipts.detach(this.boxKey, this);
    this.state = { kind: 'closed' };
  }
}
