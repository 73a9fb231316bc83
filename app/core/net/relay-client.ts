import type { ConnectionState } from '../../shared/domain.js';
import { missingCaseError, ParleyError } from '../../shared/errors.js';
import { CloseCode, type FrameOf } from '../../../relay/protocol/index.js';
import { backoffDelay, DEFAULT_BACKOFF, type BackoffOptions } from './backoff.js';
import { AccessTokenHolder } from './access-token.js';
import { RelayReplyError, unreachable } from './errors.js';
import { RelaySession, type RelayReply, type RelayRequest } from './relay-session.js';

/** Proves who we are on a fresh session (REGISTER or AUTH); throws ParleyError when the relay refuses. */
export type Authenticator = (session: RelaySession) => Promise<void>;

export interface RelayClientOptions {
  url: string;
  authenticate: Authenticator;
  /** Time to open a connection and receive its CHALLENGE, in ms (default 5 000). */
  connectTimeoutMs?: number;
  /** Time the relay has to answer a request, in ms (default 10 000). */
  requestTimeoutMs?: number;
  /** How long a request waits for a connection that is being (re)established, in ms (default 3 000). */
  onlineWaitMs?: number;
  backoff?: BackoffOptions;
}

/** A delivered envelope; `acknowledge` tells the connection that delivered it. */
export interface Delivery {
  frame: FrameOf<'DELIVER'>;
  generation: number;
  acknowledge(): void;
}

/** The relay says the recipient acknowledged an envelope this client sent asking for a receipt; `acknowledge` stops it being resent. */
export interface Receipt {
  frame: FrameOf<'RECEIPT'>;
  acknowledge(): void;
}

export interface RelayClientListeners {
  state(state: ConnectionState): void;
  /** A new connection authenticated; `generation` counts connections. */
  online(generation: number): void;
  deliver(delivery: Delivery): void;
  drained(generation: number, count: number): void;
  /** The relay's stock of this device's one-time prekeys is low. */
  prekeysLow?(counts: { oneTime: number; pqOneTime: number }): void;
  receipt?(receipt: Receipt): void;
}

/**
 * Keeps one authenticated relay connection alive: connects, authenticates, reconnects with exponential
 * backoff and jitter, and reports its state. Requests go over the current connection.
 */
export class RelayClient {
  readonly #options: Required<RelayClientOptions>;
  readonly #listeners: RelayClientListeners;
  #state: ConnectionState = { state: 'offline' };
  #session: RelaySession | undefined;
  #generation = 0;
  #running = false;
  #attempt = 0;
  #retryTimer: NodeJS.Timeout | undefined;
  #connecting: Promise<void> | undefined;
  #stateWaiters = new Set<() => void>();
  /** For RESUME on reconnect; memory only. */
  readonly #token = new AccessTokenHolder();
  #renewTimer: NodeJS.Timeout | undefined;

  constructor(options: RelayClientOptions, listeners: RelayClientListeners) {
    this.#options = { connectTimeoutMs: 5_000, requestTimeoutMs: 10_000, onlineWaitMs: 3_000, backoff: DEFAULT_BACKOFF, ...options };
    this.#listeners = listeners;
  }

  get state(): ConnectionState {
    return this.#state;
  }

  get online(): boolean {
    return this.#session !== undefined;
  }

  get generation(): number {
    return this.#generation;
  }

  /** Connect in the background and stay connected until stop(). */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#attempt = 0;
    void this.#connect(this.#options.authenticate);
  }

  /**
   * One attempt with a special authenticator (REGISTER at profile creation). On success the client keeps
   * the connection and reconnects later with the regular authenticator; on failure it stays stopped.
   */
  async connectOnce(authenticate: Authenticator): Promise<void> {
    if (this.#running) throw new ParleyError('INTERNAL', 'The relay client is already running');
    this.#running = true;
    const ok = await this.#attemptConnection(authenticate);
    if (!ok.ok) {
      this.#running = false;
      throw ok.error;
    }
  }

  async stop(): Promise<void> {
    this.#running = false;
    clearTimeout(this.#retryTimer);
    clearTimeout(this.#renewTimer);
    this.#token.forget();
    this.#session?.close();
    this.#session = undefined;
    await this.#connecting;
    this.#setState({ state: 'offline' });
  }

  /** Send a request over the current connection; waits briefly for one being established. */
  async request(frame: RelayRequest): Promise<RelayReply> {
    const session = this.#session ?? (await this.#waitForSession());
    return session.request(frame, this.#options.requestTimeoutMs);
  }

  #waitForSession(): Promise<RelaySession> {
    return new Promise((resolve, reject) => {
      if (!this.#running) {
        reject(unreachable('Not connected to the relay'));
        return;
      }
      const check = (): void => {
        if (this.#session === undefined && this.#running) return;
        done();
        if (this.#session !== undefined) resolve(this.#session);
        else reject(unreachable('Not connected to the relay'));
      };
      const done = (): void => {
        clearTimeout(timer);
        this.#stateWaiters.delete(check);
      };
      const timer = setTimeout(() => {
        done();
        reject(unreachable('Not connected to the relay'));
      }, this.#options.onlineWaitMs);
      this.#stateWaiters.add(check);
    });
  }

  async #connect(authenticate: Authenticator): Promise<void> {
    const result = await this.#attemptConnection(authenticate);
    if (!result.ok) this.#scheduleReconnect();
  }

  async #attemptConnection(authenticate: Authenticator): Promise<{ ok: true } | { ok: false; error: ParleyError }> {
    this.#setState({ state: 'connecting' });
    let session: RelaySession | undefined;
    const attempt = (async (): Promise<void> => {
      // A reconnect offers the access token first; a refused one falls back to the challenge on a fresh connection.
      const token = authenticate === this.#options.authenticate ? this.#token.usable() : undefined;
      if (token !== undefined) {
        session = await this.#resume(token);
        if (session !== undefined) return;
      }
      session = await RelaySession.connect(this.#options.url, this.#options.connectTimeoutMs);
      await authenticate(session);
    })();
    this.#connecting = attempt.catch(() => undefined);
    try {
      await attempt;
    } catch (error) {
      session?.close();
      const failure = error instanceof ParleyError ? error : unreachable();
      this.#setState({ state: 'offline', error: failure.toJSON() });
      return { ok: false, error: failure };
    } finally {
      this.#connecting = undefined;
    }
    if (session === undefined || !this.#running || session.closed) {
      session?.close();
      const failure = unreachable('The relay connection was lost');
      this.#setState({ state: 'offline', error: failure.toJSON() });
      return { ok: false, error: failure };
    }
    this.#adopt(session);
    return { ok: true };
  }

  /** RESUME with the token: the session, or undefined when the relay refused the token (it closes that connection). */
  async #resume(token: string): Promise<RelaySession | undefined> {
    const session = await RelaySession.connect(this.#options.url, this.#options.connectTimeoutMs);
    try {
      await session.request({ name: 'RESUME', token }, this.#options.requestTimeoutMs);
      return session;
    } catch (error) {
      // Expired, forged by a relay with a new key, for a deleted user, or not understood: never offered again.
      this.#token.forget();
      session.close();
      if (error instanceof RelayReplyError) return undefined;
      throw error;
    }
  }

  /** Ask for a fresh access token on this connection, and again before it runs out. Failure only means the next reconnect signs. */
  #renewToken(session: RelaySession): void {
    clearTimeout(this.#renewTimer);
    session.request({ name: 'TOKEN_REQUEST' }, this.#options.requestTimeoutMs).then(
      (reply) => {
        if (reply.name !== 'TOKEN' || this.#session !== session) return;
        const renewInMs = this.#token.hold(reply, session.clockSkewMs);
        this.#renewTimer = setTimeout(() => {
          if (this.#session === session) this.#renewToken(session);
        }, renewInMs);
        this.#renewTimer.unref();
      },
      () => undefined,
    );
  }

  #adopt(session: RelaySession): void {
    this.#session = session;
    this.#generation += 1;
    this.#attempt = 0;
    const generation = this.#generation;
    session.onClose((code) => this.#lost(session, code));
    this.#renewToken(session);
    this.#setState({ state: 'online' });
    this.#listeners.online(generation);
    session.onPush((frame) => {
      switch (frame.name) {
        case 'DELIVER':
          this.#listeners.deliver({ frame, generation, acknowledge: () => session.acknowledge(frame.messageId) });
          return;
        case 'DRAINED':
          this.#listeners.drained(generation, frame.count);
          return;
        case 'PREKEYS_LOW':
          this.#listeners.prekeysLow?.({ oneTime: frame.oneTimeCount, pqOneTime: frame.pqOneTimeCount });
          return;
        case 'RECEIPT':
          this.#listeners.receipt?.({ frame, acknowledge: () => session.acknowledge(frame.messageId) });
          return;
        default:
          throw missingCaseError(frame);
      }
    });
  }

  #lost(session: RelaySession, code: number): void {
    if (this.#session !== session) return;
    this.#session = undefined;
    clearTimeout(this.#renewTimer);
    if (!this.#running) return;
    if (code === CloseCode.REPLACED) {
      // Reconnecting would only knock the newer session off in turn: stay offline and say why.
      this.#running = false;
      const replaced = new ParleyError('RELAY_SESSION_REPLACED', 'This account connected to the relay from another place');
      this.#setState({ state: 'offline', error: replaced.toJSON() });
      return;
    }
    this.#setState({ state: 'offline', error: unreachable('The relay connection was lost').toJSON() });
    this.#scheduleReconnect();
  }

  #scheduleReconnect(): void {
    if (!this.#running) return;
    const delay = backoffDelay(this.#attempt, this.#options.backoff);
    this.#attempt += 1;
    clearTimeout(this.#retryTimer);
    this.#retryTimer = setTimeout(() => void this.#connect(this.#options.authenticate), delay);
  }

  #setState(state: ConnectionState): void {
    const changed = state.state !== this.#state.state || state.error?.code !== this.#state.error?.code;
    this.#state = state;
    if (changed) this.#listeners.state(state);
    for (const waiter of [...this.#stateWaiters]) waiter();
  }
}
