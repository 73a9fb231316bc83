// The relay benchmarks' load generator: pinned server children, and sender/receiver pairs with one message in
// flight each, through a relay or any server a caller wires up. Used by relay.ts and relay-ab.ts.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import Database from 'better-sqlite3-multiple-ciphers';
import sodium from 'libsodium-wrappers-sumo';
import WebSocket from 'ws';
import { AckCoalescer } from '../../app/core/net/ack-coalescer.js';
import { MAX_FRAME_BYTES, authTranscript, decodeFrame, encodeFrame, type ClientFrame, type Frame } from '../../relay/protocol/index.js';
import { DEFAULT_MAX_DELIVERED_IDS } from '../../relay/src/store/delivered-ids.js';
import { DATABASE_FILE, openDatabase } from '../../relay/src/store/sqlite.js';
import { usernameSkeleton } from '../../relay/src/usernames.js';
import { createIdentity, type TestIdentity } from '../support/wire-client.js';

export const SERVER_CORE = '0';
export const CLIENT_CORE = '1';
export const PAYLOAD_BYTES = 1024;
/** The relay runs as it ships (npm run relay, the Dockerfile, the systemd unit): with a 64 MB starting old generation. */
export const RELAY_NODE_FLAGS: readonly string[] = ['--initial-old-space-size=64'];

/** Start a server pinned to the server core in `cwd` (with `env` added to this process's); resolve with its process and the first line it prints. */
export function startPinned(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): Promise<{ child: ChildProcess; line: string }> {
  const child = spawn('taskset', ['-c', SERVER_CORE, command, ...args], { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const newline = out.indexOf('\n');
      if (newline >= 0) resolve({ child, line: out.slice(0, newline) });
    });
    child.once('exit', (code) => reject(new Error(`${command} exited with ${code}`)));
  });
}

export async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

/**
 * The load generator's clients send frames with an all-zero mask, which ws then skips, here and in the server it
 * measures. RFC 6455 wants an unpredictable mask, which protects proxies in between; on loopback there are none.
 * Masking, and a random id per message, cost the load generator about 5 µs of the 20 to 60 it spends per message.
 * Parley's own client keeps ws's random masks, and so does this one with BENCH_MASKS=random.
 */
export const WS_CLIENT_OPTIONS = process.env.BENCH_MASKS === 'random'
  ? { perMessageDeflate: false }
  : { perMessageDeflate: false, generateMask: (mask: Buffer): void => void mask.fill(0) };

export function openSocket(url: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, WS_CLIENT_OPTIONS);
    socket.once('open', () => resolve(socket));
    socket.once('error', reject);
  });
}

/** What a run of pairLoops measured. */
export interface LoopResult {
  readonly messages: number;
  readonly seconds: number;
  readonly latenciesMs: number[];
}

/** Run `pairs` sender/receiver loops with one message in flight each until `total` messages have arrived. */
export function pairLoops(pairs: number, total: number, send: (pair: number) => void, onArrive: (handler: (pair: number) => void) => void): Promise<LoopResult> {
  return pacedLoops(pairs, total, 0, send, onArrive);
}

/**
 * pairLoops, paced: each pair sends at most once every `periodMs`, its first send staggered across the first
 * period, so the load offers pairs * 1000 / periodMs messages a second whatever the server could take. A message that
 * arrives late is followed at once; none is skipped. Latency is then the server's and the wire's, not a queue's.
 */
export async function pacedLoops(pairs: number, total: number, periodMs: number, send: (pair: number) => void, onArrive: (handler: (pair: number) => void) => void): Promise<LoopResult> {
  const perPair = Math.max(1, Math.floor(total / pairs));
  const sentAt = new Array<number>(pairs).fill(0);
  const dueAt = new Array<number>(pairs).fill(0);
  const remaining = new Array<number>(pairs).fill(perPair);
  const latencies: number[] = [];
  let outstanding = pairs;
  let finish: () => void = () => undefined;
  const done = new Promise<void>((resolve) => (finish = resolve));
  const fire = (pair: number): void => {
    sentAt[pair] = performance.now();
    send(pair);
  };
  const fireWhenDue = (pair: number): void => {
    // Unpaced, the next message leaves at once: no clock read, as the load's own cost is part of what is measured.
    if (periodMs <= 0) return fire(pair);
    const wait = (dueAt[pair] ?? 0) - performance.now();
    if (wait <= 0) fire(pair);
    else setTimeout(fire, wait, pair);
  };
  onArrive((pair) => {
    const now = performance.now();
    latencies.push(now - (sentAt[pair] ?? 0));
    const left = (remaining[pair] ?? 0) - 1;
    remaining[pair] = left;
    if (left === 0) {
      if (--outstanding === 0) finish();
      return;
    }
    dueAt[pair] = (dueAt[pair] ?? 0) + periodMs;
    fireWhenDue(pair);
  });
  const t0 = performance.now();
  for (let pair = 0; pair < pairs; pair++) {
    dueAt[pair] = t0 + (periodMs * pair) / pairs;
    fireWhenDue(pair);
  }
  await done;
  return { messages: perPair * pairs, seconds: (performance.now() - t0) / 1000, latenciesMs: latencies.sort((a, b) => a - b) };
}

/** Put users straight into a fresh relay database (registration is not what is measured). */
export function seedUsers(dataDir: string, identities: readonly TestIdentity[]): void {
  openDatabase(dataDir).close();
  const db = new Database(join(dataDir, DATABASE_FILE));
  const insert = db.prepare('INSERT INTO users (username, identity_key, agreement_key, agreement_sig, registered_at, skeleton) VALUES (?, ?, ?, ?, ?, ?)');
  db.transaction(() => {
    for (const id of identities) insert.run(id.username, id.identityKey, id.agreementKey, id.agreementSig, Date.now(), usernameSkeleton(id.username));
  })();
  db.close();
}

/**
 * How many delivered ids each benchmarked relay starts with (BENCH_DELIVERED): by default its memory of them is full,
 * as on a relay that has run for a while, so every ack also forgets the oldest.
 */
export const DELIVERED_IDS = Number(process.env.BENCH_DELIVERED ?? DEFAULT_MAX_DELIVERED_IDS);

/** Fill a fresh relay database's log of delivered ids (acked in the last hour, to recipients that exist). */
export function seedDelivered(dataDir: string, recipients: readonly TestIdentity[], count = DELIVERED_IDS): void {
  const db = new Database(join(dataDir, DATABASE_FILE));
  const insert = db.prepare('INSERT INTO delivered_log (acked_at, recipient, message_id) VALUES (?, ?, ?)');
  const since = Date.now() - 3_600_000;
  const ids = randomBytes(16 * Math.min(count, 65_536));
  db.transaction(() => {
    for (let i = 0; i < count; i++) {
      // A fresh id per row: 16 random bytes, with the row number in its first four so none repeats.
      const id = Buffer.from(ids.subarray(16 * (i % 65_536), 16 * (i % 65_536) + 16));
      id.writeUInt32BE(i, 0);
      insert.run(since + Math.floor(i / 1_000), recipients[i % recipients.length]?.username ?? 'nobody', id);
    }
  })();
  db.close();
}

/** Relay options for a benchmark: loopback, and limits far above what the load can reach. */
export const RELAY_OPTIONS = {
  host: '127.0.0.1',
  port: 0,
  maxConnectionsPerIp: 1_000_000,
  maxHandshakesPerIp: 1_000_000,
  rateLimits: { connections: { points: 1_000_000, durationMs: 60_000 }, messages: { points: 1_000_000, durationMs: 1_000 } },
};

/** An authenticated raw client: frames in go to onFrame. */
export async function relayClient(url: string, identity: TestIdentity, onFrame: (frame: Frame) => void): Promise<WebSocket> {
  // Listen before 'open': the CHALLENGE can arrive in the same read as the upgrade response.
  const socket = new WebSocket(url, WS_CLIENT_OPTIONS);
  socket.once('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.once('message', (data: Buffer) => {
      const challenge = decodeFrame(new Uint8Array(data));
      if (challenge.name !== 'CHALLENGE') return reject(new Error('no CHALLENGE'));
      const signature = sodium.crypto_sign_detached(authTranscript(identity.username, challenge.nonce, identity.identityKey), identity.identitySecret);
      socket.on('message', (bytes: Buffer) => {
        // Views, not copies: ws gives each message memory of its own, and the load's own work is kept out of what is measured.
        const frame = decodeFrame(bytes, MAX_FRAME_BYTES, false);
        if (frame.name === 'OK' && frame.requestId === 1) resolve();
        else if (frame.name === 'ERROR' && frame.requestId === 1) reject(new Error(frame.code));
        else onFrame(frame);
      });
      socket.send(encodeFrame({ name: 'AUTH', requestId: 1, username: identity.username, signature }));
    });
  });
  return socket;
}

export async function identities(count: number, prefix: string): Promise<TestIdentity[]> {
  return Promise.all(Array.from({ length: count }, (_, i) => createIdentity(`${prefix}${i}`)));
}

/** Senders s0.. and receivers r0.. connected to one relay: pair i sends to r<i>. */
export interface RelayPairs {
  /** Send pair's next message; returns its SEND's request id. */
  send(pair: number): number;
  /** The handler each DELIVER's arrival goes to, by pair. */
  onArrive(handler: (pair: number) => void): void;
  close(): void;
}

/** A frame in Node's pooled memory: a fresh zeroed ArrayBuffer per frame cost the load generator far more. */
export function encodeLean(frame: ClientFrame): Uint8Array {
  return encodeFrame(frame, MAX_FRAME_BYTES, Buffer.allocUnsafe);
}

/** Connect every sender and receiver; receivers acknowledge as Parley's client does (AckCoalescer). Senders' frames (their OKs) go to onSenderFrame. */
export async function connectRelayPairs(url: string, senders: readonly TestIdentity[], receivers: readonly TestIdentity[], onSenderFrame: (frame: Frame) => void = () => undefined): Promise<RelayPairs> {
  let arrive: (pair: number) => void = () => undefined;
  const acks = receivers.map((_, pair) => new AckCoalescer((frame) => receiverSockets[pair]?.send(encodeLean(frame))));
  const receiverSockets = await Promise.all(
    receivers.map((identity, pair) =>
      relayClient(url, identity, (frame) => {
        if (frame.name !== 'DELIVER') return;
        acks[pair]?.add(frame.messageId);
        arrive(pair);
      }),
    ),
  );
  const senderSockets = await Promise.all(senders.map((identity) => relayClient(url, identity, onSenderFrame)));
  const envelope = new Uint8Array(randomBytes(PAYLOAD_BYTES));
  // Unique ids without a call into the system's random source per message: a random half, then a counter.
  const idBytes = Buffer.alloc(16);
  randomBytes(8).copy(idBytes);
  let idCount = 0;
  let requestId = 10;
  return {
    send(pair) {
      idBytes.writeUInt32BE(idCount++, 12);
      const frame: ClientFrame = { name: 'SEND', requestId: requestId++, to: `r${pair}`, messageId: new Uint8Array(idBytes), envelope };
      senderSockets[pair]?.send(encodeLean(frame));
      return frame.requestId;
    },
    onArrive(handler) {
      arrive = handler;
    },
    close() {
      for (const coalescer of acks) coalescer.drop();
      for (const socket of [...senderSockets, ...receiverSockets]) socket.terminate();
    },
  };
}
