// Relay benchmark: server CPU per delivered message, throughput and latency for the full relay, a bare ws
// forwarder and Mosquitto (QoS 1), driven flat out and then paced below saturation; then idle connections held and
// memory per connection.
// Run with `npm run -s bench:relay`. Servers are pinned to core 0, this load generator to core 1.
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';
import sodium from 'libsodium-wrappers-sumo';
import type WebSocket from 'ws';
import { AckCoalescer } from '../../app/core/net/ack-coalescer.js';
import {
  CLIENT_CORE,
  PAYLOAD_BYTES,
  RELAY_NODE_FLAGS,
  RELAY_OPTIONS,
  SERVER_CORE,
  connectRelayPairs,
  encodeLean,
  identities,
  openSocket,
  pacedLoops,
  pairLoops,
  relayClient,
  seedDelivered,
  seedUsers,
  startPinned,
  stop,
  type LoopResult,
} from './relay-load.js';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
// Empty (BENCH_PAIRS=) skips the flat-out runs, for the paced phase alone.
const PAIRS = (process.env.BENCH_PAIRS ?? '1,10,100,1000').split(',').filter(Boolean).map(Number);
// BENCH_SERVERS=relay measures the relay alone (repeated runs while tuning), or any other subset; the ratios need all three.
const SERVERS = new Set((process.env.BENCH_SERVERS ?? 'relay,ws-fwd,ws-fwd-ack,mosquitto').split(','));
// This machine's speed drifts by a fifth within minutes: each server runs this many times, in turn, and the median counts.
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
// Untimed messages before each timed run, so it measures the steady state a relay runs in for weeks. A fresh relay's
// CPU per message after 5,000, in slices of 10,000 at 100 pairs, read 33, 38, then 27-30 us: tiering up its JIT and
// growing its old generation took about 25,000. At 10 pairs, slices of 20,000 read 34, then 23.5-25.5 us.
const WARMUP_MESSAGES = Number(process.env.BENCH_WARMUP ?? 50_000);
// The paced latency runs: this many pairs, each sending once every BENCH_PACE_MS at most (10,000 msg/s offered by
// default, about half of what the relay takes at saturation here). BENCH_PACED_PAIRS=0 skips them.
/** The pair count the p99 target (< 5 ms) is set at; at any other, the paced p99 is only measured. */
const PACED_TARGET_PAIRS = 100;
const PACED_PAIRS = Number(process.env.BENCH_PACED_PAIRS ?? PACED_TARGET_PAIRS);
const PACE_MS = Number(process.env.BENCH_PACE_MS ?? 10);
// Each paced run's length: at 10,000 msg/s, 60,000 messages is 6 s, so its p99 rests on 600 messages and no one stall
// (a full collection of 10 ms delays about 100) decides it, as it could in a 2 s run.
const PACED_MESSAGES = Number(process.env.BENCH_PACED_MESSAGES ?? 60_000);
const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim());
const MOSQUITTO = '/usr/sbin/mosquitto';
// The servers run compiled, as the relay ships (npm run build:relay): bundled at the start of each run.
const CHILD_DIR = 'dist/bench';
const RELAY_CHILD = `${CHILD_DIR}/relay-server.mjs`;
const FORWARDER_CHILD = `${CHILD_DIR}/forwarder.mjs`;

/** How a run drives its pairs: pairLoops (as fast as the server answers) or pacedLoops. */
type Loops = (pairs: number, total: number, send: (pair: number) => void, onArrive: (handler: (pair: number) => void) => void) => Promise<LoopResult>;

const paced: Loops = (pairs, total, send, onArrive) => pacedLoops(pairs, total, PACE_MS, send, onArrive);

interface RunResult extends LoopResult {
  readonly cpuSeconds: number;
  /** The part of cpuSeconds spent in the server's own code (utime); the rest is the kernel's, on its behalf (stime). */
  readonly userSeconds: number;
  /** CPU seconds of this load generator over the same phase. */
  readonly loadCpuSeconds: number;
  /** The server's read and write system calls over the timed phase (its socket reads and writes, and the relay's database writes). */
  readonly readCalls: number;
  readonly writeCalls: number;
}

/** Node flags for a server child: BENCH_PROF=DIR writes a CPU profile of each into DIR. */
function nodeFlags(): string[] {
  return process.env.BENCH_PROF === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROF}`];
}

/**
 * An untimed warm-up run (the server's JIT, caches and pools reach their steady state), then a timed one: its
 * figures, with the server's CPU (utime + stime from /proc) and this load generator's over it.
 */
async function measured(pid: number, total: number, run: (messages: number) => Promise<LoopResult>): Promise<RunResult> {
  await run(WARMUP_MESSAGES);
  const cpu0 = cpuTimes(pid);
  const calls0 = ioCalls(pid);
  const load0 = process.cpuUsage();
  const result = await run(total);
  const load = process.cpuUsage(load0);
  const cpu = cpuTimes(pid);
  const calls = ioCalls(pid);
  return {
    ...result,
    cpuSeconds: cpu.user + cpu.system - cpu0.user - cpu0.system,
    userSeconds: cpu.user - cpu0.user,
    loadCpuSeconds: (load.user + load.system) / 1e6,
    readCalls: calls.reads - calls0.reads,
    writeCalls: calls.writes - calls0.writes,
  };
}

/** A process's read and write system calls so far (syscr and syscw), from /proc. */
function ioCalls(pid: number): { reads: number; writes: number } {
  const io = readFileSync(`/proc/${pid}/io`, 'utf8');
  const count = (name: string): number => Number(new RegExp(`^${name}: (\\d+)$`, 'm').exec(io)?.[1] ?? Number.NaN);
  return { reads: count('syscr'), writes: count('syscw') };
}

/** utime and stime of a process, in seconds, from /proc. */
function cpuTimes(pid: number): { user: number; system: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { user: Number(fields[11]) / CLK_TCK, system: Number(fields[12]) / CLK_TCK };
}

function rssBytes(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:'));
  return Number(line?.split(/\s+/)[1] ?? 0) * 1024;
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

async function benchRelay(pairs: number, total: number, loops: Loops = pairLoops): Promise<RunResult> {
  const dataDir = await mkdtemp(join(tmpdir(), 'parley-bench-'));
  const senders = await identities(pairs, 's');
  const receivers = await identities(pairs, 'r');
  seedUsers(dataDir, [...senders, ...receivers]);
  seedDelivered(dataDir, receivers);
  const { child, line: url } = await startPinned(process.execPath, [...RELAY_NODE_FLAGS, ...nodeFlags(), RELAY_CHILD, JSON.stringify({ ...RELAY_OPTIONS, dataDir })], REPO_ROOT);
  try {
    const load = await connectRelayPairs(url, senders, receivers);
    const result = await measured(child.pid ?? 0, total, (messages) => loops(pairs, messages, (pair) => load.send(pair), (handler) => load.onArrive(handler)));
    load.close();
    return result;
  } finally {
    await stop(child);
    await rm(dataDir, { recursive: true, force: true });
  }
}

/**
 * The bare forwarder; with `acks`, the forwarder that also moves the relay's other frames: it sends each sender its
 * OKs in one frame every 25 ms, and its receivers acknowledge as the relay's receivers do (AckCoalescer, ACK and ACKS).
 */
async function benchForwarder(pairs: number, total: number, loops: Loops = pairLoops, acks = false): Promise<RunResult> {
  const { child, line: url } = await startPinned(process.execPath, [...nodeFlags(), FORWARDER_CHILD, ...(acks ? ['--acks'] : [])], REPO_ROOT);
  try {
    let arrive: (pair: number) => void = () => undefined;
    const hello = (id: number): Buffer => {
      const b = Buffer.alloc(4);
      b.writeUInt32BE(id);
      return b;
    };
    const coalescers: AckCoalescer[] = [];
    const receivers = await Promise.all(
      Array.from({ length: pairs }, async (_, pair) => {
        const socket = await openSocket(url);
        const coalescer = acks ? new AckCoalescer((frame) => socket.send(encodeLean(frame))) : undefined;
        if (coalescer !== undefined) coalescers.push(coalescer);
        // Nothing is sent to a receiver before its hello, so listening after 'open' loses nothing here.
        socket.on('message', (data: Buffer) => {
          // A message's first 16 payload bytes stand for its id (the hello round trip below has none to ack).
          if (coalescer !== undefined && data.length >= 20) coalescer.add(data.subarray(4, 20));
          arrive(data.readUInt32BE(0) - 1_000_000);
        });
        socket.send(hello(1_000_000 + pair));
        return socket;
      }),
    );
    const senders = await Promise.all(
      Array.from({ length: pairs }, async (_, pair) => {
        const socket = await openSocket(url);
        socket.send(hello(pair));
        return socket;
      }),
    );
    // A round trip through every receiver proves all hellos arrived before timing starts.
    await Promise.all(
      receivers.map(
        (socket, pair) =>
          new Promise<void>((resolve) => {
            socket.once('message', () => resolve());
            senders[pair]?.send(hello(1_000_000 + pair));
          }),
      ),
    );
    const message = Buffer.alloc(4 + PAYLOAD_BYTES);
    randomBytes(PAYLOAD_BYTES).copy(message, 4);
    const result = await measured(child.pid ?? 0, total, (messages) =>
      loops(
        pairs,
        messages,
        (pair) => {
          const copy = Buffer.from(message);
          copy.writeUInt32BE(1_000_000 + pair);
          senders[pair]?.send(copy);
        },
        (handler) => (arrive = handler),
      ),
    );
    for (const coalescer of coalescers) coalescer.drop();
    for (const socket of [...senders, ...receivers]) socket.terminate();
    return result;
  } finally {
    await stop(child);
  }
}

async function benchMosquitto(pairs: number, total: number, loops: Loops = pairLoops): Promise<RunResult> {
  const dir = await mkdtemp(join(tmpdir(), 'parley-bench-mqtt-'));
  const port = await freePort();
  const config = join(dir, 'mosquitto.conf');
  await writeFile(config, [`listener ${port} 127.0.0.1`, 'allow_anonymous true', 'set_tcp_nodelay true', 'persistence false', 'max_connections -1', 'log_dest none', ''].join('\n'));
  const child = spawn('taskset', ['-c', SERVER_CORE, MOSQUITTO, '-c', config], { stdio: 'ignore' });
  try {
    const connectClient = async (id: string): Promise<mqtt.MqttClient> => {
      for (let attempt = 0; ; attempt++) {
        try {
          return await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { clientId: id, protocolVersion: 4, reconnectPeriod: 0, clean: true });
        } catch (error) {
          // Mosquitto may still be starting: there is no line to wait for, so retry the first connections briefly.
          if (attempt > 50) throw error;
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      }
    };
    const noDelay = (client: mqtt.MqttClient): mqtt.MqttClient => {
      const stream = client.stream as unknown as { setNoDelay?: (on: boolean) => void };
      stream.setNoDelay?.(true);
      return client;
    };
    let arrive: (pair: number) => void = () => undefined;
    const receivers: mqtt.MqttClient[] = [];
    for (let pair = 0; pair < pairs; pair++) {
      const client = noDelay(await connectClient(`r${pair}`));
      await client.subscribeAsync(`b/${pair}`, { qos: 1 });
      client.on('message', () => arrive(pair));
      receivers.push(client);
    }
    const senders: mqtt.MqttClient[] = [];
    for (let pair = 0; pair < pairs; pair++) senders.push(noDelay(await connectClient(`s${pair}`)));
    const payload = randomBytes(PAYLOAD_BYTES);
    const result = await measured(child.pid ?? 0, total, (messages) =>
      loops(
        pairs,
        messages,
        (pair) => senders[pair]?.publish(`b/${pair}`, payload, { qos: 1 }),
        (handler) => (arrive = handler),
      ),
    );
    await Promise.all([...senders, ...receivers].map((client) => client.endAsync(true)));
    return result;
  } finally {
    await stop(child);
    await rm(dir, { recursive: true, force: true });
  }
}

/** As many authenticated idle clients as the descriptor limit allows; RSS per connection. */
async function benchIdle(target: number): Promise<{ held: number; bytesPerConnection: number; heapPerConnection: number; error?: string }> {
  const dataDir = await mkdtemp(join(tmpdir(), 'parley-bench-idle-'));
  const users = await identities(target, 'u');
  seedUsers(dataDir, users);
  const { child, line: url } = await startPinned(process.execPath, ['--expose-gc', ...RELAY_NODE_FLAGS, ...nodeFlags(), RELAY_CHILD, JSON.stringify({ ...RELAY_OPTIONS, dataDir })], REPO_ROOT);
  const sockets: WebSocket[] = [];
  /** The server's RSS and JS heap once it has collected its garbage (what it holds, not what it has yet to free). */
  const liveMemory = async (): Promise<{ rss: number; heap: number }> => {
    const heap = new Promise<number>((resolve) => {
      const onData = (chunk: Buffer): void => {
        const line = /^gc (\d+)$/m.exec(chunk.toString());
        if (line === null) return;
        child.stdout?.off('data', onData);
        resolve(Number(line[1]));
      };
      child.stdout?.on('data', onData);
    });
    child.kill('SIGUSR2');
    return { heap: await heap, rss: rssBytes(child.pid ?? 0) };
  };
  let error: string | undefined;
  try {
    // Warm the relay's code paths and allocator with a few connections before the baseline.
    for (const identity of users.slice(0, 50)) sockets.push(await relayClient(url, identity, () => undefined));
    const before = await liveMemory();
    const warm = sockets.length;
    const batch = 200;
    try {
      for (let i = warm; i < users.length; i += batch) {
        sockets.push(...(await Promise.all(users.slice(i, i + batch).map((identity) => relayClient(url, identity, () => undefined)))));
      }
    } catch (failure) {
      error = failure instanceof Error ? failure.message : String(failure);
    }
    // Every client above has its OK, so the relay has handled every frame; its memory is read after a collection.
    const after = await liveMemory();
    const held = sockets.length;
    const added = Math.max(1, held - warm);
    return { held, bytesPerConnection: (after.rss - before.rss) / added, heapPerConnection: (after.heap - before.heap) / added, ...(error === undefined ? {} : { error }) };
  } finally {
    for (const socket of sockets) socket.terminate();
    await stop(child);
    await rm(dataDir, { recursive: true, force: true });
  }
}

/** Server CPU seconds per delivered message. */
const per = (result: RunResult): number => result.cpuSeconds / result.messages;

/** The lowest and highest ratio of two servers' CPU per message within one round (taken minutes apart, rounds drift). */
function roundRange(runs: readonly RunResult[], baseline: readonly RunResult[]): string {
  const ratios = runs.map((run, round) => {
    const base = baseline[round];
    return base === undefined ? Number.NaN : per(run) / per(base);
  });
  return `${Math.min(...ratios).toFixed(2)}-${Math.max(...ratios).toFixed(2)}`;
}

/** The run with the median of a measure (the lower middle one of an even count); by default CPU per message. */
function median(runs: readonly RunResult[], measure: (run: RunResult) => number = per): RunResult {
  const sorted = [...runs].sort((a, b) => measure(a) - measure(b));
  const middle = sorted[Math.floor((sorted.length - 1) / 2)];
  if (middle === undefined) throw new Error('no runs');
  return middle;
}

const p99 = (run: RunResult): number => percentile(run.latenciesMs, 99);

function row(label: string, pairs: number, result: RunResult, runs: readonly RunResult[]): string {
  const cpuUs = per(result) * 1e6;
  const userUs = (result.userSeconds / result.messages) * 1e6;
  const rate = result.messages / result.seconds;
  const busy = (100 * result.cpuSeconds) / result.seconds;
  const loadBusy = (100 * result.loadCpuSeconds) / result.seconds;
  const range = runs.map((run) => per(run) * 1e6);
  const calls = (count: number): string => (count / result.messages).toFixed(2).padStart(6);
  return `${label.padEnd(10)} ${String(pairs).padStart(5)} ${String(result.messages).padStart(7)} ${rate.toFixed(0).padStart(8)} ${cpuUs.toFixed(1).padStart(9)} ${userUs.toFixed(1).padStart(7)} ${(cpuUs - userUs).toFixed(1).padStart(6)} ${calls(result.readCalls)} ${calls(result.writeCalls)} ${busy.toFixed(0).padStart(5)}% ${loadBusy.toFixed(0).padStart(5)}% ${percentile(result.latenciesMs, 50).toFixed(2).padStart(8)} ${percentile(result.latenciesMs, 99).toFixed(2).padStart(8)}  ${Math.min(...range).toFixed(1)}-${Math.max(...range).toFixed(1)}`;
}

function pacedRow(label: string, result: RunResult, runs: readonly RunResult[]): string {
  const at = (p: number): string => percentile(result.latenciesMs, p).toFixed(2).padStart(8);
  const p99s = runs.map(p99);
  const max = result.latenciesMs.at(-1) ?? Number.NaN;
  return `${label.padEnd(10)} ${String(result.messages).padStart(7)} ${(result.messages / result.seconds).toFixed(0).padStart(8)} ${(per(result) * 1e6).toFixed(1).padStart(9)} ${at(50)} ${at(90)} ${at(99)} ${at(99.9)} ${max.toFixed(2).padStart(8)}  ${Math.min(...p99s).toFixed(2)}-${Math.max(...p99s).toFixed(2)}`;
}

/**
 * Latency below saturation: PACED_PAIRS pairs, one message in flight each, each sending at most once every PACE_MS.
 * Driven flat out (above), every server's latency is mostly queueing at the saturated load generator: with one
 * message in flight per pair, the mean is pairs / throughput (Little's law).
 */
async function pacedLatency(total: number): Promise<void> {
  const offered = (PACED_PAIRS * 1000) / PACE_MS;
  console.log('');
  console.log(`paced: ${PACED_PAIRS} pairs, one message in flight each, each sending at most once every ${PACE_MS} ms (${offered.toFixed(0)} msg/s offered; BENCH_PACE_MS)`);
  console.log(`Each row is the median by p99 of ${ROUNDS} runs taken in turn; the last column is the range of their p99s.`);
  console.log('server        msgs    msg/s  cpu us/msg   p50 ms   p90 ms   p99 ms p99.9 ms   max ms  p99 range');
  const runs: Record<'relay' | 'forwarder' | 'mosquitto', RunResult[]> = { relay: [], forwarder: [], mosquitto: [] };
  for (let round = 0; round < ROUNDS; round++) {
    if (SERVERS.has('relay')) runs.relay.push(await benchRelay(PACED_PAIRS, total, paced));
    if (SERVERS.has('ws-fwd')) runs.forwarder.push(await benchForwarder(PACED_PAIRS, total, paced));
    if (SERVERS.has('mosquitto')) runs.mosquitto.push(await benchMosquitto(PACED_PAIRS, total, paced));
  }
  const shown: Array<readonly [string, RunResult[]]> = [
    ['relay', runs.relay],
    ['ws-fwd', runs.forwarder],
    ['mosquitto', runs.mosquitto],
  ];
  for (const [label, serverRuns] of shown) if (serverRuns.length > 0) console.log(pacedRow(label, median(serverRuns, p99), serverRuns));
  if (runs.relay.length > 0) {
    console.log('');
    const target = PACED_PAIRS === PACED_TARGET_PAIRS ? '(target < 5)' : `(the target, < 5, is set at ${PACED_TARGET_PAIRS} pairs)`;
    console.log(`paced, ${PACED_PAIRS} pairs: relay p99 = ${p99(median(runs.relay, p99)).toFixed(2)} ms ${target}`);
  }
}

/**
 * The paced runs measure latency as the load generator sees it, so they start in a load process of their own, with
 * no history: after the 1,000-pair runs in the same process, the relay's paced p99 read 5.2-9.8 ms and the
 * forwarder's 2.0-3.4 ms; with a fresh process straight after the same runs, 3.2 and 0.9 ms.
 */
const PACED_PHASE = 'paced';

async function pacedInFreshProcess(total: number): Promise<void> {
  const child = spawn(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
    cwd: REPO_ROOT,
    stdio: 'inherit',
    env: { ...process.env, BENCH_PHASE: PACED_PHASE, BENCH_PACED_MESSAGES: String(total) },
  });
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', resolve);
  });
  if (code !== 0) throw new Error(`the paced runs exited with status ${code}`);
}

async function main(): Promise<void> {
  await sodium.ready;
  // -a: every thread of this process (V8 and libuv helpers too), or they would run on the server's core.
  execFileSync('taskset', ['-a', '-cp', CLIENT_CORE, String(process.pid)], { stdio: 'ignore' });
  if (process.env.BENCH_PHASE === PACED_PHASE) {
    // The parent has built the servers.
    await pacedLatency(PACED_MESSAGES);
    return;
  }
  execFileSync(process.execPath, ['build/bundle-relay.mjs', '--outdir', CHILD_DIR, 'tests/bench/relay-server.ts', 'tests/bench/forwarder.ts'], { cwd: REPO_ROOT, stdio: 'inherit' });
  // Long enough that 10 ms CPU ticks are small next to the timed phase.
  const total = Number(process.env.BENCH_MESSAGES ?? 20_000);
  console.log(`Parley relay benchmark: ${PAYLOAD_BYTES}-byte envelopes, one message in flight per pair, servers on core ${SERVER_CORE}, load on core ${CLIENT_CORE}`);
  console.log(`Server CPU is utime+stime of the server process over the timed phase (/proc, 10 ms ticks), after ${WARMUP_MESSAGES} untimed messages (BENCH_WARMUP).`);
  // core: the server's share of its core over the timed phase; load: the load generator's share of its own. Near 100%,
  // that side is the bottleneck, and latency is mostly queueing there.
  console.log('reads and writes are the server\'s read and write system calls per message over the same phase (/proc, syscr and syscw).');
  console.log(`Each row is the median by CPU per message of ${ROUNDS} runs taken in turn with the other servers' (BENCH_ROUNDS); the last column is the range of those runs.`);
  // user and kernel: how the CPU per message splits between the server's own code and the kernel's work for it
  // (mostly its socket reads and writes, alike for every server that moves the same frames). reads and writes: the
  // server's read and write system calls per message, so a row's kernel time can be set beside the calls it made.
  console.log('server     pairs    msgs    msg/s  cpu us/msg   user  kernel  reads writes  core   load   p50 ms   p99 ms  cpu range');
  const ratios: string[] = [];
  const frames: string[] = [];
  const compared = SERVERS.has('relay') && SERVERS.has('ws-fwd') && SERVERS.has('mosquitto');
  for (const pairs of PAIRS) {
    const messages = Math.max(total, pairs * 5);
    // Taken in turn, so a spell when this machine runs slow falls on every server alike.
    const runs: Record<'relay' | 'forwarder' | 'forwarderAcks' | 'mosquitto', RunResult[]> = { relay: [], forwarder: [], forwarderAcks: [], mosquitto: [] };
    for (let round = 0; round < ROUNDS; round++) {
      if (SERVERS.has('relay')) runs.relay.push(await benchRelay(pairs, messages));
      if (SERVERS.has('ws-fwd')) runs.forwarder.push(await benchForwarder(pairs, messages));
      if (SERVERS.has('ws-fwd-ack')) runs.forwarderAcks.push(await benchForwarder(pairs, messages, pairLoops, true));
      if (SERVERS.has('mosquitto')) runs.mosquitto.push(await benchMosquitto(pairs, messages));
    }
    if (SERVERS.has('relay')) console.log(row('relay', pairs, median(runs.relay), runs.relay));
    if (SERVERS.has('ws-fwd')) console.log(row('ws-fwd', pairs, median(runs.forwarder), runs.forwarder));
    if (SERVERS.has('ws-fwd-ack')) console.log(row('ws-fwd-ack', pairs, median(runs.forwarderAcks), runs.forwarderAcks));
    if (SERVERS.has('mosquitto')) console.log(row('mosquitto', pairs, median(runs.mosquitto), runs.mosquitto));
    if (compared) {
      const [relay, forwarder, mosquitto] = [median(runs.relay), median(runs.forwarder), median(runs.mosquitto)];
      ratios.push(
        `pairs ${String(pairs).padStart(4)}: relay CPU/msg = ${(per(relay) / per(forwarder)).toFixed(2)}x ws forwarder (target <= 2; rounds ${roundRange(runs.relay, runs.forwarder)}), ${(per(relay) / per(mosquitto)).toFixed(2)}x Mosquitto QoS 1 (target <= 1.5; rounds ${roundRange(runs.relay, runs.mosquitto)})`,
      );
    }
    if (SERVERS.has('relay') && SERVERS.has('ws-fwd') && SERVERS.has('ws-fwd-ack')) {
      const [relay, forwarder, forwarderAcks] = [median(runs.relay), median(runs.forwarder), median(runs.forwarderAcks)];
      frames.push(
        `pairs ${String(pairs).padStart(4)}: ws-fwd-ack CPU/msg = ${(per(forwarderAcks) / per(forwarder)).toFixed(2)}x ws forwarder; relay = ${(per(relay) / per(forwarderAcks)).toFixed(2)}x ws-fwd-ack (rounds ${roundRange(runs.relay, runs.forwarderAcks)})`,
      );
    }
  }
  console.log('');
  if (ratios.length > 0) console.log('Each ratio is of the median rows; beside it, the lowest and highest of the same ratio within one round.');
  for (const line of ratios) console.log(line);
  if (frames.length > 0) {
    console.log('');
    // No target: how much of the relay's cost is the frames its protocol adds (OKs, acks), and how much its own work.
    console.log("ws-fwd-ack: the forwarder that also sends each sender its OKs every 25 ms and reads the receivers' acks, nothing else");
    for (const line of frames) console.log(line);
  }

  if (PACED_PAIRS > 0) await pacedInFreshProcess(Math.max(PACED_MESSAGES, PACED_PAIRS * 5));

  // BENCH_IDLE=0 skips the idle-connection part (short runs while tuning the message path).
  if (process.env.BENCH_IDLE === '0') return;
  const limit = Number(execFileSync('sh', ['-c', 'ulimit -n']).toString().trim());
  // Each connection costs one descriptor here and one in the relay; leave room for files and the database.
  const target = Math.min(15_000, limit - 500);
  const idle = await benchIdle(target);
  console.log('');
  console.log(`idle authenticated connections: ${idle.held} held of ${target} tried (descriptor limit ${limit})${idle.error === undefined ? '' : `, stopped by: ${idle.error}`}`);
  console.log(`relay memory per idle connection: ${(idle.bytesPerConnection / 1024).toFixed(1)} KiB RSS (target <= 8 KB), of which JS heap ${(idle.heapPerConnection / 1024).toFixed(1)} KiB`);
}

await main();
