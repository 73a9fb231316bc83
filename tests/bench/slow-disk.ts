// A relay on a slow disk: do the users who are only chatting feel it? First the chat alone: envelopes acked in time are
// never stored, so their senders' OKs need no flush. Then writers keep the relay writing, so every commit needs a flush
// of the WAL to disk: first by sending to offline recipients (every envelope is stored), then by publishing prekeys (a
// directory write each). Meanwhile online pairs exchange messages, one in flight each; the latency to the recipient
// and the time to the sender's OK are measured. Each case is run twice: with every flush made slow (SLOW_FLUSH_MS, by
// a shim preloaded into the relay that waits before each fsync and fdatasync) and with none added.
// Run with `npm run -s bench:slow-disk`; it needs gcc for the shim.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sodium from 'libsodium-wrappers-sumo';
import type WebSocket from 'ws';
import { decodeRequestIds, encodeFrame, signedPrekeyTranscript, type ClientFrame, type Frame } from '../../relay/protocol/index.js';
import { CLIENT_CORE, RELAY_OPTIONS, connectRelayPairs, identities, pairLoops, relayClient, seedUsers, startPinned, stop } from './relay-load.js';
import type { TestIdentity } from '../support/wire-client.js';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CHILD_DIR = join(REPO_ROOT, 'dist/bench');
const SHIM = join(CHILD_DIR, 'slow-flush.so');
const FLUSH_MS = Number(process.env.BENCH_FLUSH_MS ?? 20);
const WRITERS = Number(process.env.BENCH_WRITERS ?? 20);
const PAIRS = Number(process.env.BENCH_PAIRS ?? 10);
const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 20_000);
const ENVELOPE = new Uint8Array(randomBytes(1024));

interface Run {
  readonly p50: number;
  readonly p99: number;
  /** From SEND to its OK, at the online senders. */
  readonly okP50: number;
  readonly okP99: number;
  readonly max: number;
  readonly onlinePerSecond: number;
  readonly writesPerSecond: number;
}

/** What the writers write: nothing (no writers), envelopes for offline recipients, or their own signed prekeys. */
type Writes = 'nothing' | 'envelopes' | 'prekeys';

/** The signed prekey a writer publishes again and again: each one replaces the last, a write every time. */
function signedPrekey(writer: TestIdentity, requestId: number): ClientFrame {
  const publicKey = new Uint8Array(32).fill(7);
  return { name: 'PUBLISH_SIGNED_PREKEY', requestId, keyId: 1, publicKey, signature: sodium.crypto_sign_detached(signedPrekeyTranscript(1, publicKey), writer.identitySecret) };
}

/** Writers with one write in flight each, each waiting for its OK: a SEND to a recipient who is not connected, or a prekey. */
async function startWriters(url: string, writes: Writes, writers: readonly TestIdentity[], offline: readonly TestIdentity[]): Promise<{ written: () => number; stop: () => void }> {
  let written = 0;
  let running = true;
  const idBytes = Buffer.alloc(16);
  randomBytes(8).copy(idBytes);
  let idCount = 0;
  const sockets: WebSocket[] = [];
  const prekeys = writers.map((identity) => signedPrekey(identity, 0));
  const sendNext = (writer: number, requestId: number): void => {
    if (!running) return;
    if (writes === 'prekeys') {
      sockets[writer]?.send(encodeFrame({ ...(prekeys[writer] as ClientFrame), requestId }));
      return;
    }
    idBytes.writeUInt32BE(idCount++, 12);
    const frame = { name: 'SEND', requestId, to: offline[writer]?.username ?? '', messageId: new Uint8Array(idBytes), envelope: ENVELOPE } as const;
    sockets[writer]?.send(encodeFrame(frame));
  };
  const onFrame = (writer: number) => (frame: Frame): void => {
    const answered = frame.name === 'OK' ? [frame.requestId] : frame.name === 'OKS' ? (decodeRequestIds(frame.requestIds) ?? []) : [];
    if (frame.name === 'ERROR') throw new Error(`writer ${writer}: ${frame.code}`);
    for (const requestId of answered) {
      written++;
      sendNext(writer, requestId + 1);
    }
  };
  sockets.push(...(await Promise.all(writers.map((identity, writer) => relayClient(url, identity, onFrame(writer))))));
  writers.forEach((_, writer) => sendNext(writer, 10));
  return {
    written: () => written,
    stop: () => {
      running = false;
      for (const socket of sockets) socket.terminate();
    },
  };
}

const HEADINGS: Record<Writes, string> = {
  nothing: 'no writers: the chat alone (its envelopes are acked in time, so none is stored)',
  envelopes: 'writers store 1 KiB envelopes for offline recipients',
  prekeys: 'writers publish signed prekeys',
};

/** When each online SEND left, and how long its OK took: OKs come alone or gathered in an OKS. */
function okClock(): { onFrame: (frame: Frame) => void; sent: (requestId: number) => void; all: () => Promise<number[]> } {
  const sentAt = new Map<number, number>();
  const okMs: number[] = [];
  let whenAll: (() => void) | undefined;
  return {
    onFrame: (frame) => {
      const answered = frame.name === 'OK' ? [frame.requestId] : frame.name === 'OKS' ? (decodeRequestIds(frame.requestIds) ?? []) : [];
      const now = performance.now();
      for (const requestId of answered) {
        const at = sentAt.get(requestId);
        if (at === undefined) continue;
        sentAt.delete(requestId);
        okMs.push(now - at);
      }
      if (sentAt.size === 0) whenAll?.();
    },
    sent: (requestId) => void sentAt.set(requestId, performance.now()),
    // Resolves once every SEND sent has its OK (the last ones come a hold after their delivery).
    all: async () => {
      if (sentAt.size > 0) await new Promise<void>((resolve) => (whenAll = resolve));
      return okMs.sort((a, b) => a - b);
    },
  };
}

async function run(writes: Writes, flushMs: number, people: Record<'writers' | 'offline' | 'senders' | 'receivers', TestIdentity[]>): Promise<Run> {
  const dataDir = await mkdtemp(join(tmpdir(), 'parley-slow-disk-'));
  seedUsers(dataDir, Object.values(people).flat());
  const env = { LD_PRELOAD: SHIM, SLOW_FLUSH_MS: String(flushMs) };
  const { child, line: url } = await startPinned(process.execPath, [join(CHILD_DIR, 'relay-server.mjs'), JSON.stringify({ ...RELAY_OPTIONS, dataDir })], REPO_ROOT, env);
  try {
    const oks = okClock();
    const load = await connectRelayPairs(url, people.senders, people.receivers, oks.onFrame);
    await pairLoops(PAIRS, 2_000, (pair) => load.send(pair), (handler) => load.onArrive(handler));
    const writers = writes === 'nothing' ? undefined : await startWriters(url, writes, people.writers, people.offline);
    const before = writers?.written() ?? 0;
    const result = await pairLoops(PAIRS, MESSAGES, (pair) => oks.sent(load.send(pair)), (handler) => load.onArrive(handler));
    const written = (writers?.written() ?? 0) - before;
    const okMs = await oks.all();
    writers?.stop();
    load.close();
    const at = (sorted: readonly number[], q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
    const latencies = result.latenciesMs;
    return {
      p50: at(latencies, 0.5),
      p99: at(latencies, 0.99),
      okP50: at(okMs, 0.5),
      okP99: at(okMs, 0.99),
      max: latencies.at(-1) ?? Number.NaN,
      onlinePerSecond: result.messages / result.seconds,
      writesPerSecond: written / result.seconds,
    };
  } finally {
    await stop(child);
    await rm(dataDir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  await sodium.ready;
  mkdirSync(CHILD_DIR, { recursive: true });
  execFileSync('gcc', ['-shared', '-fPIC', '-O2', '-o', SHIM, join(REPO_ROOT, 'tests/bench/slow-flush.c'), '-ldl']);
  execFileSync(process.execPath, ['build/bundle-relay.mjs', '--outdir', CHILD_DIR, 'tests/bench/relay-server.ts'], { cwd: REPO_ROOT, stdio: 'inherit' });
  execFileSync('taskset', ['-a', '-cp', CLIENT_CORE, String(process.pid)], { stdio: 'ignore' });
  const people = {
    writers: await identities(WRITERS, 'w'),
    offline: await identities(WRITERS, 'o'),
    senders: await identities(PAIRS, 's'),
    receivers: await identities(PAIRS, 'r'),
  };
  console.log(`Parley relay on a slow disk: ${PAIRS} online pairs (1 KiB, one in flight each, ${MESSAGES} messages) while ${WRITERS} writers keep one write each in flight`);
  for (const writes of ['nothing', 'envelopes', 'prekeys'] as const) {
    console.log(`\n${HEADINGS[writes]}`);
    console.log('flush wait   online p50 ms   p99 ms   max ms   OK p50 ms   OK p99 ms   online msg/s   writes/s');
    const runs: Run[] = [];
    for (const flushMs of [0, FLUSH_MS]) {
      const measured = await run(writes, flushMs, people);
      runs.push(measured);
      console.log(
        `${`${flushMs} ms`.padStart(10)}   ${measured.p50.toFixed(2).padStart(13)}   ${measured.p99.toFixed(2).padStart(6)}   ${measured.max.toFixed(1).padStart(6)}   ${measured.okP50.toFixed(1).padStart(9)}   ${measured.okP99.toFixed(1).padStart(9)}   ${measured.onlinePerSecond.toFixed(0).padStart(12)}   ${measured.writesPerSecond.toFixed(0).padStart(8)}`,
      );
    }
    const [fast, slow] = runs;
    if (fast === undefined || slow === undefined) return;
    console.log(`online p99 with ${FLUSH_MS} ms flushes / with none added: ${(slow.p99 / fast.p99).toFixed(2)} (target <= 2: a slow disk holds up the writers, not the chat)`);
  }
}

await main();
