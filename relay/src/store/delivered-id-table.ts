import { webcrypto } from 'node:crypto';
import { MESSAGE_ID_BYTES } from '../../protocol/limits.js';

/** Words per slot: the id's four, the recipient's number, the next slot in the same bucket. */
const SLOT_WORDS = 6;
const OWNER = 4;
const NEXT = 5;
/** Ends a bucket's chain. */
const NONE = 0xffff_ffff;
/** Slots allocated before the first growth; each growth doubles them, up to the table's maximum. */
const FIRST_CAPACITY = 1024;
/** The most ids a table may hold: about 4 GB, well inside the longest typed array (2^32 elements) its slots can be. */
export const MAX_TABLE_IDS = 100_000_000;

/**
 * The ids in the delivered window, oldest first, holding at most `max`: past it, the oldest goes first. A ring of
 * fixed-size slots in typed arrays (doubled as it fills, up to max), with chained buckets over it: about 40 bytes an
 * id, none of them on the JS heap, so a full window costs the garbage collector nothing and never rehashes as it
 * turns over.
 * - Recipients are numbered (a count of ids each), so a slot holds a number, not a name.
 * - Buckets come from a random-multiplier hash of the id's words and the recipient's number (universal: ids are
 *   chosen by clients, and one who could aim them at one bucket would slow every lookup).
 */
export class DeliveredIdTable {
  private capacity = 0;
  private slots = new Uint32Array(0);
  private times = new Float64Array(0);
  private buckets = new Uint32Array(0);
  private shift = 32;
  /** The oldest entry's slot; the others follow it around the ring. */
  private head = 0;
  private count = 0;
  private readonly recipients = new RecipientNumbers();
  /** Odd multipliers for the id's four words and the recipient's number. */
  private readonly multipliers = webcrypto.getRandomValues(new Uint32Array(5)).map((m) => m | 1);
  /** The id under lookup as words, so a lookup allocates nothing. */
  private readonly words = new Uint32Array(4);

  constructor(private readonly max: number) {
    if (!Number.isInteger(max) || max < 0 || max > MAX_TABLE_IDS) throw new RangeError(`a delivered-id table holds 0 to ${MAX_TABLE_IDS} ids, not ${max}`);
  }

  get size(): number {
    return this.count;
  }

  has(recipient: string, messageId: Uint8Array): boolean {
    const words = this.readWords(messageId);
    const owner = this.recipients.find(recipient);
    return owner !== undefined && this.find(words, owner) !== NONE;
  }

  /** Remember an id as the newest; one already here keeps its place and takes the new time. Says whether it was new. */
  add(recipient: string, messageId: Uint8Array, ackedAt: number): boolean {
    if (this.max === 0) return false;
    const words = this.readWords(messageId);
    const known = this.recipients.find(recipient);
    const found = known === undefined ? NONE : this.find(words, known);
    if (found !== NONE) {
      this.times[found] = ackedAt;
      return false;
    }
    if (this.count === this.max) this.dropOldest();
    else if (this.count === this.capacity) this.grow();
    const owner = this.recipients.take(recipient);
    const slot = (this.head + this.count) % this.capacity;
    const at = slot * SLOT_WORDS;
    this.slots.set(words, at);
    this.slots[at + OWNER] = owner;
    this.times[slot] = ackedAt;
    this.link(slot);
    this.count += 1;
    return true;
  }

  /** Forget the ids from the oldest on, up to the first one with a time at or after `before`. */
  forgetBefore(before: number): void {
    while (this.count > 0 && (this.times[this.head] as number) < before) this.dropOldest();
  }

  // The entry `age` places from the oldest (0 is the oldest, size - 1 the newest), a field at a time: the log's append
  // reads thousands at once, and an object and a buffer for each cost more than the append's SQL.

  recipientAt(age: number): string {
    return this.recipients.name(this.slots[this.slotAt(age) * SLOT_WORDS + OWNER] as number);
  }

  ackedAtAt(age: number): number {
    return this.times[this.slotAt(age)] as number;
  }

  /** Copy the entry's id into `into` at `offset`. */
  copyIdAt(age: number, into: Uint8Array, offset: number): void {
    const at = this.slotAt(age) * SLOT_WORDS;
    for (let w = 0; w < 4; w++) {
      const word = this.slots[at + w] as number;
      const b = offset + 4 * w;
      into[b] = word & 0xff;
      into[b + 1] = (word >>> 8) & 0xff;
      into[b + 2] = (word >>> 16) & 0xff;
      into[b + 3] = word >>> 24;
    }
  }

  private slotAt(age: number): number {
    if (!Number.isInteger(age) || age < 0 || age >= this.count) throw new RangeError(`no entry ${age} of ${this.count}`);
    return (this.head + age) % this.capacity;
  }

  private readWords(messageId: Uint8Array): Uint32Array {
    if (messageId.length !== MESSAGE_ID_BYTES) throw new RangeError(`a message id is ${MESSAGE_ID_BYTES} bytes`);
    const words = this.words;
    for (let w = 0, b = 0; w < 4; w++, b += 4) {
      words[w] = (messageId[b] as number) | ((messageId[b + 1] as number) << 8) | ((messageId[b + 2] as number) << 16) | ((messageId[b + 3] as number) << 24);
    }
    return words;
  }

  /** Multiply-shift over the words: the sum wraps at 2^32 (>>> does that), and its top bits pick the bucket. */
  private bucket(w0: number, w1: number, w2: number, w3: number, owner: number): number {
    const m = this.multipliers;
    const sum = Math.imul(m[0] as number, w0) + Math.imul(m[1] as number, w1) + Math.imul(m[2] as number, w2) + Math.imul(m[3] as number, w3) + Math.imul(m[4] as number, owner);
    return sum >>> this.shift;
  }

  private bucketOf(slot: number): number {
    const s = this.slots;
    const at = slot * SLOT_WORDS;
    return this.bucket(s[at] as number, s[at + 1] as number, s[at + 2] as number, s[at + 3] as number, s[at + OWNER] as number);
  }

  private find(words: Uint32Array, owner: number): number {
    const s = this.slots;
    const w0 = words[0] as number;
    const w1 = words[1] as number;
    const w2 = words[2] as number;
    const w3 = words[3] as number;
    for (let slot = this.buckets[this.bucket(w0, w1, w2, w3, owner)] as number; slot !== NONE; slot = s[slot * SLOT_WORDS + NEXT] as number) {
      const at = slot * SLOT_WORDS;
      if (s[at] === w0 && s[at + 1] === w1 && s[at + 2] === w2 && s[at + 3] === w3 && s[at + OWNER] === owner) return slot;
    }
    return NONE;
  }

  private link(slot: number): void {
    const bucket = this.bucketOf(slot);
    this.slots[slot * SLOT_WORDS + NEXT] = this.buckets[bucket] as number;
    this.buckets[bucket] = slot;
  }

  private dropOldest(): void {
    const slot = this.head;
    const s = this.slots;
    const bucket = this.bucketOf(slot);
    const next = s[slot * SLOT_WORDS + NEXT] as number;
    if (this.buckets[bucket] === slot) this.buckets[bucket] = next;
    else {
      let before = this.buckets[bucket] as number;
      while (s[before * SLOT_WORDS + NEXT] !== slot) before = s[before * SLOT_WORDS + NEXT] as number;
      s[before * SLOT_WORDS + NEXT] = next;
    }
    this.recipients.release(s[slot * SLOT_WORDS + OWNER] as number);
    this.head = (this.head + 1) % this.capacity;
    this.count -= 1;
  }

  /** Twice the slots (up to max), the entries moved to the front in order, every chain rebuilt: once per doubling. */
  private grow(): void {
    const capacity = Math.min(this.max, Math.max(FIRST_CAPACITY, 2 * this.capacity));
    const slots = new Uint32Array(capacity * SLOT_WORDS);
    const times = new Float64Array(capacity);
    for (let age = 0; age < this.count; age++) {
      const from = (this.head + age) % this.capacity;
      slots.set(this.slots.subarray(from * SLOT_WORDS, (from + 1) * SLOT_WORDS), age * SLOT_WORDS);
      times[age] = this.times[from] as number;
    }
    // A bucket per slot, a power of two, at least two: >>> 32 would shift by nothing.
    const bits = Math.max(1, Math.ceil(Math.log2(capacity)));
    this.capacity = capacity;
    this.slots = slots;
    this.times = times;
    this.buckets = new Uint32Array(2 ** bits).fill(NONE);
    this.shift = 32 - bits;
    this.head = 0;
    for (let slot = 0; slot < this.count; slot++) this.link(slot);
  }
}

/** Numbers for the recipients with ids in the table, each counting its ids; a number whose count drops to 0 is reused. */
class RecipientNumbers {
  private readonly numbers = new Map<string, number>();
  private readonly names: string[] = [];
  private readonly counts: number[] = [];
  private readonly free: number[] = [];

  find(name: string): number | undefined {
    return this.numbers.get(name);
  }

  name(number: number): string {
    const name = this.names[number];
    if (name === undefined) throw new RangeError(`no recipient numbered ${number}`);
    return name;
  }

  /** The recipient's number, counting one more id for it. */
  take(name: string): number {
    const known = this.numbers.get(name);
    if (known !== undefined) {
      this.counts[known] = (this.counts[known] as number) + 1;
      return known;
    }
    const number = this.free.pop() ?? this.names.length;
    this.numbers.set(name, number);
    this.names[number] = name;
    this.counts[number] = 1;
    return number;
  }

  release(number: number): void {
    const count = (this.counts[number] as number) - 1;
    this.counts[number] = count;
    if (count > 0) return;
    this.numbers.delete(this.name(number));
    this.free.push(number);
  }
}
