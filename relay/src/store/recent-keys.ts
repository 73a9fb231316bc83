/** Past this many spent slots at the front of the arrival order (and at least half of it), they are cut off. */
const COMPACT_AFTER = 1024;

/**
 * A set of keys kept in the order they first came, each with a time, holding at most `max`: past it, the oldest goes
 * first. Adding, asking and forgetting cost the same however full it is.
 * (A Map alone keeps that order too, but taking its oldest key with keys().next() walks past every slot deleted
 * since the map last rehashed: with 500,000 keys, that came to 50 to 300 µs per add once it was full.)
 */
export class RecentKeys<K extends string> {
  /** Each key's time. */
  private readonly times = new Map<K, number>();
  /** The keys in the order they first came, from `head` on; the slots before it are spent. */
  private order: Array<K | undefined> = [];
  private head = 0;

  constructor(private readonly max: number) {}

  get size(): number {
    return this.times.size;
  }

  has(key: K): boolean {
    return this.times.has(key);
  }

  /** Remember a key as the newest; a key already here keeps its place and takes the new time. */
  add(key: K, at: number): void {
    if (this.times.has(key)) {
      this.times.set(key, at);
      return;
    }
    this.times.set(key, at);
    this.order.push(key);
    if (this.times.size > this.max) this.dropOldest();
  }

  /** Forget the keys from the oldest on, up to the first one with a time at or after `before`. */
  forgetBefore(before: number): void {
    for (let key = this.order[this.head]; key !== undefined && (this.times.get(key) ?? before) < before; key = this.order[this.head]) {
      this.dropOldest();
    }
  }

  private dropOldest(): void {
    const key = this.order[this.head];
    if (key === undefined) return;
    this.times.delete(key);
    // The slot lets go of its key now, not at the next compaction.
    this.order[this.head] = undefined;
    this.head += 1;
    if (this.head >= COMPACT_AFTER && this.head * 2 >= this.order.length) {
      this.order = this.order.slice(this.head);
      this.head = 0;
    }
  }
}
