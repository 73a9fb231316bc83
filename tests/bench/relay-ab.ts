// Two builds of the relay compared on one core, for changes smaller than this machine's drift between runs.
// Run with `npm run -s bench:relay-ab -- DIR_A DIR_B`: two checkouts of Parley, each with its node_modules.
// Both relays run at once, pinned to core 0, and the load (core 1) goes to them in turn in short slices, so a slow
// spell falls on both alike. Each relay's CPU is read from /proc/PID/task/*/schedstat (nanoseconds, every thread)
// over the whole of each launch, its idle background work included. Every launch starts both afresh: each Node
// process draws its own hash seed and memory layout, which moves its speed by a few percent.
import { execFileSync, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import sodium from 'libsodium-wrappers-sumo';
import { CLIENT_CORE, RELAY_NODE_FLAGS, RELAY_OPTIONS, connectRelayPairs, identities, pairLoops, seedDelivered, seedUsers, startPinned, stop, type RelayPairs } from './relay-load.js';
import type { TestIdentity } from '../support/wire-client.js';

const PAIRS = Number(process.env.BENCH_PAIRS ?? 100);
const LAUNCHES = Number(process.env.BENCH_LAUNCHES ?? 4);
const SLICES = Number(process.env.BENCH_SLICES ?? 10);
const SLICE_MESSAGES = Number(process.env.BENCH_MESSAGES ?? 6_000);
/** Extra environment for one side's relay, as NAME=VALUE pairs: compares one checkout with itself under two settings. */
const SIDE_ENV = { A: sideEnv(process.env.BENCH_ENV_A), B: sideEnv(process.env.BENCH_ENV_B) } as const;
/** Extra Node flags for one side's relay, space-separated: V8's flags that NODE_OPTIONS refuses (--single-threaded-gc). */
const SIDE_FLAGS = { A: sideFlags(process.env.BENCH_FLAGS_A), B: sideFlags(process.env.BENCH_FLAGS_B) } as const;
/** Between slices: the acks, commits and OKs of the last one settle before the other relay's slice starts. */
const SETTLE_MS = 60;

function sideEnv(pairs: string | undefined): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const pair of (pairs ?? '').split(/\s+/).filter(Boolean)) {
    const equals = pair.indexOf('=');
    if (equals <= 0) throw new Error(`BENCH_ENV_A and BENCH_ENV_B take NAME=VALUE pairs, not ${pair}`);
    env[pair.slice(0, equals)] = pair.slice(equals + 1);
  }
  return env;
}

function sideFlags(flags: string | undefined): string[] {
  return (flags ?? '').split(/\s+/).filter(Boolean);
}

/** On-CPU nanoseconds of every thread of a process. */
function cpuNs(pid: number): number {
  let total = 0;
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    try {
      total += Number(readFileSync(`/proc/${pid}/task/${task}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      // A thread that ended between the listing and the read.
    }
  }
  return total;
}

interface Side {
  readonly dir: string;
  readonly child: ChildProcess;
  readonly dataDir: string;
  readonly load: RelayPairs;
}

async function launch(dir: string, env: NodeJS.ProcessEnv, flags: readonly string[], senders: readonly TestIdentity[], receivers: readonly TestIdentity[]): Promise<Side> {
  const dataDir = await mkdtemp(join(tmpdir(), 'parley-bench-ab-'));
  seedUsers(dataDir, [...senders, ...receivers]);
  seedDelivered(dataDir, receivers);
  const { child, line: url } = await startPinned(process.execPath, [...RELAY_NODE_FLAGS, ...flags, join(dir, 'dist/bench/relay-server.mjs'), JSON.stringify({ ...RELAY_OPTIONS, dataDir })], dir, env);
  return { dir, child, dataDir, load: await connectRelayPairs(url, senders, receivers) };
}

/** One slice of load through one relay; how many messages it delivered. */
async function slice(side: Side): Promise<number> {
  const { messages } = await pairLoops(PAIRS, SLICE_MESSAGES, (pair) => side.load.send(pair), (handler) => side.load.onArrive(handler));
  await new Promise((done) => setTimeout(done, SETTLE_MS));
  return messages;
}

async function close(side: Side): Promise<void> {
  side.load.close();
  await stop(side.child);
  await rm(side.dataDir, { recursive: true, force: true });
}

async function main(): Promise<void> {
  const [dirA, dirB] = process.argv.slice(2).map((dir) => resolve(dir));
  if (dirA === undefined || dirB === undefined) throw new Error('usage: npm run -s bench:relay-ab -- DIR_A DIR_B');
  await sodium.ready;
  for (const dir of [dirA, dirB]) execFileSync(process.execPath, ['build/bundle-relay.mjs', '--outdir', 'dist/bench', 'tests/bench/relay-server.ts'], { cwd: dir, stdio: 'inherit' });
  execFileSync('taskset', ['-a', '-cp', CLIENT_CORE, String(process.pid)], { stdio: 'ignore' });
  const senders = await identities(PAIRS, 's');
  const receivers = await identities(PAIRS, 'r');
  console.log(`Parley relay A/B: ${PAIRS} pairs, ${LAUNCHES} launches of ${SLICES} slices of ${SLICE_MESSAGES} messages per relay`);
  console.log(`A ${dirA} ${process.env.BENCH_ENV_A ?? ''} ${SIDE_FLAGS.A.join(' ')}\nB ${dirB} ${process.env.BENCH_ENV_B ?? ''} ${SIDE_FLAGS.B.join(' ')}`);
  const ratios: number[] = [];
  for (let round = 0; round < LAUNCHES; round++) {
    // Started, warmed and sliced in alternating order, so neither relay always goes first.
    const aFirst = round % 2 === 0;
    const first = aFirst ? await launch(dirA, SIDE_ENV.A, SIDE_FLAGS.A, senders, receivers) : await launch(dirB, SIDE_ENV.B, SIDE_FLAGS.B, senders, receivers);
    const second = aFirst ? await launch(dirB, SIDE_ENV.B, SIDE_FLAGS.B, senders, receivers) : await launch(dirA, SIDE_ENV.A, SIDE_FLAGS.A, senders, receivers);
    const started = [first, second];
    const [a, b] = aFirst ? [first, second] : [second, first];
    for (const side of started) await slice(side);
    const pids = [a.child.pid ?? 0, b.child.pid ?? 0] as const;
    const before = pids.map(cpuNs);
    let messages = 0;
    for (let i = 0; i < SLICES; i++) for (const side of i % 2 === 0 ? [a, b] : [b, a]) messages += await slice(side);
    const [usA, usB] = pids.map((pid, i) => (cpuNs(pid) - (before[i] ?? 0)) / 1_000 / (messages / 2));
    if (usA === undefined || usB === undefined) throw new Error('unreachable');
    ratios.push(usB / usA);
    console.log(`launch ${round + 1}: A ${usA.toFixed(1)} us/msg, B ${usB.toFixed(1)} us/msg, B/A ${(usB / usA).toFixed(3)}`);
    await Promise.all([close(a), close(b)]);
  }
  const geometricMean = Math.exp(ratios.reduce((sum, ratio) => sum + Math.log(ratio), 0) / ratios.length);
  console.log(`B/A CPU per message: ${geometricMean.toFixed(3)} (geometric mean of ${LAUNCHES} launches; range ${Math.min(...ratios).toFixed(3)}-${Math.max(...ratios).toFixed(3)})`);
}

await main();
