/** Past this many dead slots at the front of the arrival order (and at least half of it), they are cut off. */
const COMPACT_AFTER = 1024;

/**
 * A set of keys kept in the order they came, each with its time, holding at most `max`: past it, the oldest goes
 * first. Adding, asking and forgetting cost the same however full it is.
 * (A Map alone keeps that order too, but taking its oldest key with keys().next() walks past every slot deleted
 * since the map last rehashed: with 500,000 keys, that came to 50 to 300 µs per add once it was full.)
 */
export class RecentKeys<K extends string> {
  /** Each key's place in the arrival order: a count of the keys added before it, ever. */
  private readonly places = new Map<K, number>();
  /** The arrival order from `head` on. A slot whose key was added again later is dead, and skipped. */
  private keys: Array<K | undefined> = [];
  /** The time each key in `keys` was added with. */
  private times: number[] = [];
  private head = 0;
  /** The place of keys[0]. */
  private base = 0;

  constructor(private readonly max: number) {}

  get size(): number {
    return this.places.size;
  }

  has(key: K): boolean {
    return this.places.has(key);
  }

  /** Remember a key as the newest (a key added again moves to the newest end, with its new time). */
  add(key: K, at: number): void {
    this.places.set(key, this.base + this.keys.length);
    this.keys.push(key);
    this.times.push(at);
    while (this.places.size > this.max && this.head < this.keys.length) this.dropOldest();
  }

  /** Forget the keys added before `before`, oldest first, up to the first one that is not (times rise with arrival). */
  forgetBefore(before: number): void {
    while (this.head < this.keys.length && (this.times[this.head] ?? before) < before) this.dropOldest();
  }

  private dropOldest(): void {
    const key = this.keys[this.head];
    if (key !== undefined && this.places.get(key) === this.base + this.head) this.places.delete(key);
    // The slot lets go of its key now, not at the next compaction.
    this.keys[this.head] = undefined;
    this.head += 1;
    if (this.head >= COMPACT_AFTER && this.head * 2 >= this.keys.length) {
      this.keys = this.keys.slice(this.head);
      this.times = this.times.slice(this.head);
      this.base += this.head;
      this.head = 0;
    }
  }
}
