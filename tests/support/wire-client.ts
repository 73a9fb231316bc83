import sodium from 'libsodium-wrappers-sumo';
import WebSocket from 'ws';
import {
  agreementKeyTranscript,
  authTranscript,
  decodeFrame,
  decodeRequestIds,
  encodeFrame,
  type ClientFrame,
  type Frame,
  type FrameName,
  type FrameOf,
} from '../../relay/protocol/index.js';

/** A test user's keys: Ed25519 identity, X25519 agreement key and the identity's signature over it. */
export interface TestIdentity {
  readonly username: string;
  readonly identityKey: Uint8Array;
  readonly identitySecret: Uint8Array;
  readonly agreementKey: Uint8Array;
  readonly agreementSig: Uint8Array;
}

export async function createIdentity(username: string): Promise<TestIdentity> {
  await sodium.ready;
  const identity = sodium.crypto_sign_keypair();
  const agreement = sodium.crypto_box_keypair();
  return {
    username,
    identityKey: identity.publicKey,
    identitySecret: identity.privateKey,
    agreementKey: agreement.publicKey,
    agreementSig: sodium.crypto_sign_detached(agreementKeyTranscript(agreement.publicKey), identity.privateKey),
  };
}

export function signChallenge(identity: TestIdentity, nonce: Uint8Array, username = identity.username): Uint8Array {
  return sodium.crypto_sign_detached(authTranscript(username, nonce, identity.identityKey), identity.identitySecret);
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
/** A client frame without its requestId: the client numbers its own requests. */
export type Outgoing = DistributiveOmit<ClientFrame, 'requestId'>;

export interface CloseInfo {
  readonly code: number;
  readonly reason: string;
}

interface Waiter {
  /** undefined: any unprompted frame. */
  readonly name: FrameName | undefined;
  readonly resolve: (frame: Frame) => void;
  readonly reject: (error: Error) => void;
}

/** A raw protocol client: replies are matched by requestId, everything else lands in an inbox read with next(). */
export class WireClient {
  /** Frames the relay sent unprompted (CHALLENGE, DELIVER, DRAINED, connection ERRORs), oldest first, not yet taken. */
  private readonly inbox: Frame[] = [];
  private readonly waiters: Waiter[] = [];
  private readonly pending = new Map<number, { resolve: (frame: Frame) => void; reject: (error: Error) => void }>();
  private nextRequestId = 1;
  private closeInfo: CloseInfo | undefined;
  /** Settles when the socket has closed, with the relay's close code and reason. */
  readonly closed: Promise<CloseInfo>;
  /** The nonce of the connection's CHALLENGE (set by connect). */
  nonce: Uint8Array = new Uint8Array();
  /** The name of every frame received, in order, before OKS is taken apart into OKs. */
  readonly received: FrameName[] = [];
  /** Pings received from the relay so far. */
  private pingCount = 0;
  private readonly pingWaiters: Array<{ readonly count: number; readonly resolve: () => void }> = [];

  private constructor(private readonly socket: WebSocket) {
    socket.on('error', () => undefined); // surfaced through `closed`
    socket.on('message', (data: Buffer) => this.onMessage(data));
    socket.on('ping', () => {
      this.pingCount += 1;
      for (const waiter of this.pingWaiters.filter((w) => w.count <= this.pingCount)) {
        this.pingWaiters.splice(this.pingWaiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    });
    this.closed = new Promise((resolve) => {
      socket.once('close', (code, reason) => {
        this.closeInfo = { code, reason: reason.toString() };
        const error = new Error(`connection closed (${code} ${this.closeInfo.reason})`);
        for (const waiter of this.waiters.splice(0)) waiter.reject(error);
        for (const request of this.pending.values()) request.reject(error);
        this.pending.clear();
        resolve(this.closeInfo);
      });
    });
  }

  /** Open a connection and wait for its CHALLENGE. */
  static async connect(url: string, options: WebSocket.ClientOptions = {}): Promise<WireClient> {
    const client = await WireClient.open(url, options);
    client.nonce = (await client.next('CHALLENGE')).nonce;
    return client;
  }

  /** Open a connection without waiting for the first frame (it may be an ERROR: a limit turned it away). */
  static async open(url: string, options: WebSocket.ClientOptions = {}): Promise<WireClient> {
    const socket = new WebSocket(url, options);
    const client = new WireClient(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    return client;
  }

  /** Settles once the relay has pinged this socket `count` times in all. */
  pings(count: number): Promise<void> {
    if (this.pingCount >= count) return Promise.resolve();
    return new Promise((resolve) => this.pingWaiters.push({ count, resolve }));
  }

  /** Stop reading from the socket (a slow reader); the relay's writes pile up in TCP and then in its buffer. */
  pause(): void {
    this.socket.pause();
  }

  /** Read again after pause(). */
  resume(): void {
    this.socket.resume();
  }

  /** Connect and REGISTER; throws unless the relay answers OK. */
  static async registered(url: string, identity: TestIdentity): Promise<WireClient> {
    const client = await WireClient.connect(url);
    await expectOk(client.register(identity));
    return client;
  }

  /** Connect and AUTH; throws unless the relay answers OK. */
  static async authenticated(url: string, identity: TestIdentity): Promise<WireClient> {
    const client = await WireClient.connect(url);
    await expectOk(client.auth(identity));
    return client;
  }

  register(identity: TestIdentity, overrides: Partial<Omit<FrameOf<'REGISTER'>, 'name' | 'requestId'>> = {}): Promise<Frame> {
    return this.request({
      name: 'REGISTER',
      username: identity.username,
      identityKey: identity.identityKey,
      agreementKey: identity.agreementKey,
      agreementSig: identity.agreementSig,
      signature: signChallenge(identity, this.nonce),
      ...overrides,
    });
  }

  auth(identity: TestIdentity, signature = signChallenge(identity, this.nonce)): Promise<Frame> {
    return this.request({ name: 'AUTH', username: identity.username, signature });
  }

  /** Send a request and resolve with the frame that echoes its requestId (OK, ERROR or USER). */
  request(frame: Outgoing): Promise<Frame> {
    return this.requestWith(frame, (bytes) => this.socket.send(bytes));
  }

  /** Send a request's frame as a message in two fragments, split at `at`, and resolve with its reply. */
  requestInFragments(frame: Outgoing, at: number): Promise<Frame> {
    return this.requestWith(frame, (bytes) => {
      this.socket.send(bytes.subarray(0, at), { fin: false });
      this.socket.send(bytes.subarray(at), { fin: true });
    });
  }

  private requestWith(frame: Outgoing, send: (bytes: Uint8Array) => void): Promise<Frame> {
    const requestId = this.nextRequestId++;
    return new Promise((resolve, reject) => {
      if (this.closeInfo !== undefined) {
        reject(new Error('connection is closed'));
        return;
      }
      this.pending.set(requestId, { resolve, reject });
      send(encodeFrame({ ...frame, requestId } as ClientFrame));
    });
  }

  /** Send a frame that gets no reply (ACK). */
  post(frame: Outgoing): void {
    this.socket.send(encodeFrame({ ...frame, requestId: this.nextRequestId++ } as ClientFrame));
  }

  /** Send raw bytes, or a text frame when given a string; `options` may send a fragment (fin: false) or skip masking. */
  sendRaw(data: Uint8Array | string, options: { readonly fin?: boolean; readonly mask?: boolean } = {}): void {
    this.socket.send(data, options);
  }

  /** Ping the relay; settles with its pong. */
  ping(): Promise<void> {
    return new Promise((resolve) => {
      this.socket.once('pong', () => resolve());
      this.socket.ping();
    });
  }

  /** Take the oldest unprompted frame (with this name, if given), waiting for it if none has arrived. */
  next(): Promise<Frame>;
  next<N extends FrameName>(name: N): Promise<FrameOf<N>>;
  next(name?: FrameName): Promise<Frame> {
    const index = this.inbox.findIndex((frame) => matches(name, frame));
    const found = index >= 0 ? this.inbox.splice(index, 1)[0] : undefined;
    if (found !== undefined) return Promise.resolve(found);
    if (this.closeInfo !== undefined) return Promise.reject(new Error(`connection closed while waiting for ${name ?? 'a frame'}`));
    return new Promise((resolve, reject) => {
      this.waiters.push({ name, resolve, reject });
    });
  }

  /** Frames of this name received and not yet taken with next(). */
  unread(name: FrameName): number {
    return this.inbox.filter((frame) => frame.name === name).length;
  }

  async close(): Promise<CloseInfo> {
    if (this.closeInfo === undefined) this.socket.close();
    return this.closed;
  }

  private onMessage(data: Buffer): void {
    let frame: Frame;
    try {
      frame = decodeFrame(new Uint8Array(data));
    } catch (error) {
      // A relay that sends a bad frame fails the test: every waiter sees why.
      const reason = error instanceof Error ? error.message : String(error);
      for (const waiter of this.waiters.splice(0)) waiter.reject(new Error(`relay sent a bad frame: ${reason}`));
      this.socket.terminate();
      return;
    }
    this.received.push(frame.name);
    if (frame.name !== 'OKS') {
      this.onFrame(frame);
      return;
    }
    // Several OKs in one frame: each request gets its own OK, as if they had come one by one.
    const requestIds = decodeRequestIds(frame.requestIds);
    if (requestIds === undefined) {
      for (const waiter of this.waiters.splice(0)) waiter.reject(new Error('relay sent an OKS without request ids'));
      this.socket.terminate();
      return;
    }
    for (const requestId of requestIds) this.onFrame({ name: 'OK', requestId });
  }

  private onFrame(frame: Frame): void {
    const request = frame.requestId === 0 ? undefined : this.pending.get(frame.requestId);
    if (request !== undefined) {
      this.pending.delete(frame.requestId);
      request.resolve(frame);
      return;
    }
    const waiterIndex = this.waiters.findIndex((waiter) => matches(waiter.name, frame));
    const waiter = waiterIndex >= 0 ? this.waiters.splice(waiterIndex, 1)[0] : undefined;
    if (waiter === undefined) this.inbox.push(frame);
    else waiter.resolve(frame);
  }
}

function matches(name: FrameName | undefined, frame: Frame): boolean {
  return name === undefined || frame.name === name;
}

/** Await a reply and throw with the relay's code unless it is OK. */
export async function expectOk(reply: Promise<Frame>): Promise<void> {
  const frame = await reply;
  if (frame.name !== 'OK') {
    throw new Error(frame.name === 'ERROR' ? `relay answered ${frame.code}: ${frame.message}` : `relay answered ${frame.name}`);
  }
}
