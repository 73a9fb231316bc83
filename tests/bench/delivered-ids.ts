/**
 * The relay's memory of delivered ids once it is full (500,000 ids, the default cap: each add forgets the oldest), per
 * ack: a SEND's duplicate check, then the ack's add. Against, in the same run, the floor for a JS Map: one of the same
 * size told which key is oldest (a lookup, an insert and a delete per ack, with string keys built beforehand).
 * Prints the time per ack, the longest single ack (a Map's rehash stops the relay), and the bytes each id holds.
 * Run: npm run bench:delivered-ids
 */
import { randomBytes } from 'node:crypto';
import { DeliveredIdTable } from '../../relay/src/store/delivered-id-table.js';
import { DEFAULT_MAX_DELIVERED_IDS } from '../../relay/src/store/delivered-ids.js';

const CAP = DEFAULT_MAX_DELIVERED_IDS;
/** Acks timed after the fill: enough to turn the whole window over twice. */
const ACKS = 1_000_000;
const ROUNDS = 3;

/** A Map key for one envelope: the recipient, a separator, then one character per id byte. */
type EnvelopeKey = string & { readonly __brand: 'EnvelopeKey' };

function envelopeKey(recipient: string, id: Uint8Array): EnvelopeKey {
  return `${recipient}\u0000${String.fromCharCode(...id)}` as EnvelopeKey;
}

const gc = globalThis.gc;
if (gc === undefined) throw new Error('run with --expose-gc (npm run bench:delivered-ids does)');

/** An acked envelope: the recipient, the id's bytes, and its key for the Map baseline. */
interface Acked {
  readonly recipient: string;
  readonly id: Uint8Array;
  readonly key: EnvelopeKey;
}

/** What each design offers the benchmark: the duplicate check and the add. */
interface Memory {
  has(acked: Acked): boolean;
  add(acked: Acked, at: number): void;
}

class Table implements Memory {
  private readonly table = new DeliveredIdTable(CAP);
  has(acked: Acked): boolean {
    return this.table.has(acked.recipient, acked.id);
  }
  add(acked: Acked, at: number): void {
    this.table.add(acked.recipient, acked.id, at);
  }
}

/** The floor for a Map: the bench knows the oldest key (the one added CAP acks ago), so keeping the order costs nothing. */
class KnownOldestMap implements Memory {
  private readonly map = new Map<EnvelopeKey, number>();
  /** A ring: the key added CAP adds ago sits where the next one goes. */
  private readonly order = new Array<EnvelopeKey>(CAP);
  private added = 0;
  /** Keys built here, as the relay's memory would own them, when the bench measures memory. */
  constructor(private readonly ownKeys: boolean) {}
  has(acked: Acked): boolean {
    return this.map.has(acked.key);
  }
  add(acked: Acked, at: number): void {
    const key = this.ownKeys ? envelopeKey(acked.recipient, acked.id) : acked.key;
    const place = this.added % CAP;
    if (this.map.size === CAP) this.map.delete(this.order[place] as EnvelopeKey);
    this.map.set(key, at);
    this.order[place] = key;
    this.added += 1;
  }
}

const acks: Acked[] = Array.from({ length: CAP + ACKS }, (_, i) => {
  const recipient = `user${i % 1000}`;
  const id = new Uint8Array(randomBytes(16));
  return { recipient, id, key: envelopeKey(recipient, id) };
});

interface Run {
  readonly usPerAck: number;
  readonly longestMs: number;
}

/** µs per ack, and the longest single ack, over ACKS acks after a full window's worth of adds. */
function run(memory: Memory): Run {
  for (let i = 0; i < CAP; i++) memory.add(acks[i] as Acked, i);
  let duplicates = 0;
  let longest = 0;
  const started = performance.now();
  let last = started;
  for (let i = CAP; i < CAP + ACKS; i++) {
    const acked = acks[i] as Acked;
    if (memory.has(acked)) duplicates += 1;
    memory.add(acked, i);
    const now = performance.now();
    longest = Math.max(longest, now - last);
    last = now;
  }
  if (duplicates !== 0) throw new Error('fresh ids counted as duplicates');
  return { usPerAck: ((last - started) * 1000) / ACKS, longestMs: longest };
}

function best(make: () => Memory): Run {
  // The fastest time per ack, and the longest ack of any round: a stall that comes once a window is not noise.
  let fastest: Run = { usPerAck: Number.POSITIVE_INFINITY, longestMs: 0 };
  for (let round = 0; round < ROUNDS; round++) {
    const { usPerAck, longestMs } = run(make());
    fastest = { usPerAck: Math.min(fastest.usPerAck, usPerAck), longestMs: Math.max(fastest.longestMs, longestMs) };
    gc?.();
  }
  return fastest;
}

/** Heap and buffer bytes per id held, once full: what the memory keeps alive beside the bench's own data. */
function bytesPerId(make: () => Memory): number {
  gc?.();
  const before = process.memoryUsage();
  const memory = make();
  for (let i = 0; i < CAP + CAP / 2; i++) memory.add(acks[i] as Acked, i);
  gc?.();
  const after = process.memoryUsage();
  const bytes = after.heapUsed + after.arrayBuffers - (before.heapUsed + before.arrayBuffers);
  // Keep it alive until measured.
  if (!memory.has(acks[CAP] as Acked)) throw new Error('lost an id');
  return bytes / CAP;
}

const table = best(() => new Table());
const floor = best(() => new KnownOldestMap(false));
const tableBytes = bytesPerId(() => new Table());
const mapBytes = bytesPerId(() => new KnownOldestMap(true));

const row = (name: string, r: Run, bytes: number): string =>
  `${name.padEnd(34)}${r.usPerAck.toFixed(2).padStart(8)}${r.longestMs.toFixed(2).padStart(12)}${bytes.toFixed(0).padStart(10)}`;
console.log(`Parley delivered-id memory, full at ${CAP} ids: best of ${ROUNDS} runs of ${ACKS} acks (longest: of all runs), each forgetting the oldest id`);
console.log(`${'memory'.padEnd(34)}${'us/ack'.padStart(8)}${'longest ms'.padStart(12)}${'bytes/id'.padStart(10)}`);
console.log(row('DeliveredIdTable', table, tableBytes));
console.log(row('Map told which key is oldest', floor, mapBytes));
console.log(`time per ack, table / Map: ${(table.usPerAck / floor.usPerAck).toFixed(2)}x (target <= 1.0: no slower than the Map it replaces)`);
console.log(`longest ack, table / Map: ${(table.longestMs / floor.longestMs).toFixed(2)}x (target <= 0.2: no rehash stops the relay)`);
console.log(`bytes per id, table / Map: ${(tableBytes / mapBytes).toFixed(2)}x (target <= 0.33)`);
