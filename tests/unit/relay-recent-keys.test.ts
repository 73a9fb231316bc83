import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RecentKeys } from '../../relay/src/store/recent-keys.js';

type Op = { readonly kind: 'add'; readonly key: string; readonly step: number } | { readonly kind: 'forget'; readonly step: number };

/** The plain meaning: a list in order of first arrival; a key added again keeps its place and takes the new time. */
class Model {
  entries: Array<{ key: string; at: number }> = [];
  constructor(private readonly max: number) {}
  add(key: string, at: number): void {
    const known = this.entries.find((entry) => entry.key === key);
    if (known !== undefined) known.at = at;
    else this.entries.push({ key, at });
    while (this.entries.length > this.max) this.entries.shift();
  }
  forgetBefore(before: number): void {
    while ((this.entries[0]?.at ?? before) < before) this.entries.shift();
  }
}

const KEYS = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'];
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('add' as const), key: fc.constantFrom(...KEYS), step: fc.nat(3) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('forget' as const), step: fc.nat(6) }) },
);

describe('recent keys', () => {
  it('holds what a plain arrival-order list holds, through any adds, re-adds and forgets, past compactions', () => {
    fc.assert(
      fc.property(fc.nat(6), fc.array(op, { maxLength: 3000, size: 'max' }), (max, ops) => {
        const keys = new RecentKeys<string>(max);
        const model = new Model(max);
        let now = 0;
        for (const next of ops) {
          now += next.step;
          if (next.kind === 'add') {
            keys.add(next.key, now);
            model.add(next.key, now);
          } else {
            // Forget up to a time at or before now: times only rise.
            keys.forgetBefore(now - next.step);
            model.forgetBefore(now - next.step);
          }
          expect(keys.size).toBe(model.entries.length);
        }
        const held = new Set(model.entries.map((entry) => entry.key));
        for (const key of KEYS) expect(keys.has(key)).toBe(held.has(key));
      }),
      { numRuns: 100 },
    );
  });

  it('forgets the oldest first once full (a key added again keeps its place), and by time', () => {
    const keys = new RecentKeys<string>(3);
    keys.add('a', 1);
    keys.add('b', 2);
    keys.add('a', 3);
    keys.add('c', 4);
    expect(keys.size).toBe(3);
    keys.add('d', 5);
    expect(['a', 'b', 'c', 'd'].map((key) => keys.has(key))).toEqual([false, true, true, true]);
    keys.forgetBefore(4);
    expect(['b', 'c', 'd'].map((key) => keys.has(key))).toEqual([false, true, true]);
    expect(keys.size).toBe(2);
  });

  it('stays exact across many compactions of a full window', () => {
    const max = 5_000;
    const keys = new RecentKeys<string>(max);
    const total = 50_000;
    for (let i = 0; i < total; i++) keys.add(`k${i}`, i);
    expect(keys.size).toBe(max);
    expect(keys.has(`k${total - max - 1}`)).toBe(false);
    expect(keys.has(`k${total - max}`)).toBe(true);
    expect(keys.has(`k${total - 1}`)).toBe(true);
    keys.forgetBefore(total - 10);
    expect(keys.size).toBe(10);
  });
});
