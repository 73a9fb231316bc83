/**
 * The relay's memory of delivered ids, per ack (a SEND's duplicate check, then the ack's add), once it is full
 * (500,000 ids, the default cap: each add forgets the oldest). Against, in the same run:
 * - the floor: a Map of the same size told which key is oldest (a lookup, an insert and a delete per ack);
 * - the design it replaced: a Map alone, whose oldest key was taken with keys().next().
 * Run: npm run bench:delivered-ids
 */
import { randomBytes } from 'node:crypto';
import { DEFAULT_MAX_DELIVERED_IDS } from '../../relay/src/store/delivered-ids.js';
import { envelopeKey, type EnvelopeKey } from '../../relay/src/store/envelope-key.js';
import { RecentKeys } from '../../relay/src/store/recent-keys.js';

const CAP = DEFAULT_MAX_DELIVERED_IDS;
/** Acks timed after the fill: enough to go through the whole window once. */
const ACKS = 600_000;
/** The replaced design slows as it goes (see below): fewer acks, or the run takes minutes. */
const MAP_ACKS = 150_000;
const ROUNDS = 3;

/** What each design offers the benchmark: the duplicate check and the add. */
interface Memory {
  has(key: EnvelopeKey): boolean;
  add(key: EnvelopeKey, at: number): void;
}

/** A Map alone, told how to find its oldest key. */
class MapOnly implements Memory {
  private readonly map = new Map<EnvelopeKey, number>();
  constructor(
    private readonly max: number,
    private readonly oldest: (map: Map<EnvelopeKey, number>, at: number) => EnvelopeKey,
  ) {}
  has(key: EnvelopeKey): boolean {
    return this.map.has(key);
  }
  add(key: EnvelopeKey, at: number): void {
    this.map.set(key, at);
    if (this.map.size > this.max) this.map.delete(this.oldest(this.map, at));
  }
}

/** The replaced design. keys().next() walks past every slot deleted since the map last rehashed. */
const firstKey = (map: Map<EnvelopeKey, number>): EnvelopeKey => map.keys().next().value as EnvelopeKey;
/** The floor: the bench knows the oldest key (the one added CAP acks ago), so keeping the order costs nothing. */
const knownOldest = (_map: Map<EnvelopeKey, number>, at: number): EnvelopeKey => keys[at - CAP] as EnvelopeKey;

const keys: EnvelopeKey[] = Array.from({ length: CAP + ACKS }, (_, i) => envelopeKey(`user${i % 1000}`, randomBytes(16)));

/** µs per ack over `acks` acks, after `fill` adds. */
function perAck(memory: Memory, fill: number, acks: number): number {
  for (let i = 0; i < fill; i++) memory.add(keys[i] as EnvelopeKey, i);
  let duplicates = 0;
  const started = performance.now();
  for (let i = fill; i < fill + acks; i++) {
    const key = keys[i] as EnvelopeKey;
    if (memory.has(key)) duplicates += 1;
    memory.add(key, i);
  }
  const us = ((performance.now() - started) * 1000) / acks;
  if (duplicates !== 0) throw new Error('fresh ids counted as duplicates');
  return us;
}

function best(run: () => number): number {
  let fastest = Number.POSITIVE_INFINITY;
  for (let round = 0; round < ROUNDS; round++) fastest = Math.min(fastest, run());
  return fastest;
}

const recent = best(() => perAck(new RecentKeys(CAP), CAP, ACKS));
const floor = best(() => perAck(new MapOnly(CAP, knownOldest), CAP, ACKS));
console.log(`Parley delivered-id memory, full at ${CAP} ids: best of ${ROUNDS} runs of ${ACKS} acks, each forgetting the oldest id`);
console.log(`RecentKeys: ${recent.toFixed(2)} us/ack`);
console.log(`floor (a Map told which key is oldest): ${floor.toFixed(2)} us/ack`);
console.log(`RecentKeys / floor: ${(recent / floor).toFixed(2)}x (target <= 1.5: keeping the order costs little beside the lookups)`);
const mapOnly = perAck(new MapOnly(CAP, firstKey), CAP, MAP_ACKS);
console.log(`Map alone (the replaced design), one run of ${MAP_ACKS} acks: ${mapOnly.toFixed(2)} us/ack = ${(mapOnly / recent).toFixed(1)}x RecentKeys, and rising with every ack until the map rehashes`);
