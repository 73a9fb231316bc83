import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DeliveredIdTable } from '../../relay/src/store/delivered-id-table.js';

type Op = { readonly kind: 'add'; readonly key: number; readonly step: number } | { readonly kind: 'forget'; readonly step: number };

/** The plain meaning: a list in order of first arrival; a key added again keeps its place and takes the new time. */
class Model {
  entries: Array<{ key: number; at: number }> = [];
  constructor(private readonly max: number) {}
  add(key: number, at: number): void {
    const known = this.entries.find((entry) => entry.key === key);
    if (known !== undefined) known.at = at;
    else this.entries.push({ key, at });
    while (this.entries.length > this.max) this.entries.shift();
  }
  forgetBefore(before: number): void {
    while ((this.entries[0]?.at ?? before) < before) this.entries.shift();
  }
}

const RECIPIENTS = ['bob', 'carol', 'dave'];
/** Ids that differ in one byte, in the top bit of a word, or not at all (the same id for another recipient). */
const IDS = [new Uint8Array(16), new Uint8Array(16).fill(255), Uint8Array.from({ length: 16 }, (_, i) => i), Uint8Array.from({ length: 16 }, (_, i) => (i === 3 ? 0x80 : 0))];
/** Key n: a recipient and an id; the same id stands under every recipient. */
const KEYS = RECIPIENTS.flatMap((recipient) => IDS.map((id) => ({ recipient, id })));
const keyOf = (n: number): { recipient: string; id: Uint8Array } => KEYS[n] as { recipient: string; id: Uint8Array };

/** The entry `age` places from the oldest, read a field at a time as the log's append reads it. */
function entry(table: DeliveredIdTable, age: number): { recipient: string; messageId: Uint8Array; ackedAt: number } {
  // Read at an offset, past a byte that must stay as it is.
  const into = new Uint8Array(17).fill(0xee);
  table.copyIdAt(age, into, 1);
  expect(into[0]).toBe(0xee);
  return { recipient: table.recipientAt(age), messageId: into.subarray(1), ackedAt: table.ackedAtAt(age) };
}

const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('add' as const), key: fc.nat(KEYS.length - 1), step: fc.nat(3) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('forget' as const), step: fc.nat(6) }) },
);

describe('delivered id table', () => {
  it('holds what a plain arrival-order list holds, through any adds, re-adds and forgets, with shared buckets', () => {
    fc.assert(
      fc.property(fc.nat(8), fc.array(op, { maxLength: 3000, size: 'max' }), (max, ops) => {
        const table = new DeliveredIdTable(max);
        const model = new Model(max);
        let now = 0;
        for (const next of ops) {
          now += next.step;
          if (next.kind === 'add') {
            const { recipient, id } = keyOf(next.key);
            const known = model.entries.some((entry) => entry.key === next.key);
            expect(table.add(recipient, id, now)).toBe(max > 0 && !known);
            model.add(next.key, now);
          } else {
            // Forget up to a time at or before now: times only rise.
            table.forgetBefore(now - next.step);
            model.forgetBefore(now - next.step);
          }
          expect(table.size).toBe(model.entries.length);
        }
        const held = new Set(model.entries.map((entry) => entry.key));
        KEYS.forEach(({ recipient, id }, n) => expect(table.has(recipient, id)).toBe(held.has(n)));
        // Oldest first, each with its latest time.
        model.entries.forEach((expected, age) => {
          const read = entry(table, age);
          const { recipient, id } = keyOf(expected.key);
          expect([read.recipient, read.messageId, read.ackedAt]).toEqual([recipient, id, expected.at]);
        });
      }),
      { numRuns: 200 },
    );
  });

  it('stays exact as it grows past its first slots and turns over many times once full', () => {
    const max = 5_000;
    const table = new DeliveredIdTable(max);
    const id = (n: number): Uint8Array => {
      const bytes = new Uint8Array(16);
      new DataView(bytes.buffer).setUint32(12, n);
      return bytes;
    };
    const total = 50_000;
    for (let n = 0; n < total; n++) expect(table.add(`user${n % 7}`, id(n), n)).toBe(true);
    expect(table.size).toBe(max);
    expect(table.has(`user${(total - max - 1) % 7}`, id(total - max - 1))).toBe(false);
    expect(table.has(`user${(total - max) % 7}`, id(total - max))).toBe(true);
    expect(table.has(`user${(total - 1) % 7}`, id(total - 1))).toBe(true);
    // The right id under the wrong recipient is not known.
    expect(table.has(`user${total % 7}`, id(total - 1))).toBe(false);
    expect(entry(table, 0).ackedAt).toBe(total - max);
    expect(entry(table, max - 1).messageId).toEqual(id(total - 1));
    table.forgetBefore(total - 10);
    expect(table.size).toBe(10);
    expect(table.has(`user${(total - 11) % 7}`, id(total - 11))).toBe(false);
    expect(table.has(`user${(total - 10) % 7}`, id(total - 10))).toBe(true);
  });

  it('forgets a recipient with its last id, and numbers recipients afresh after', () => {
    const table = new DeliveredIdTable(2);
    const a = IDS[0] as Uint8Array;
    const b = IDS[1] as Uint8Array;
    const c = IDS[2] as Uint8Array;
    table.add('bob', a, 1);
    table.add('carol', b, 2);
    table.add('dave', c, 3);
    expect(table.has('bob', a)).toBe(false);
    table.add('erin', a, 4);
    expect([table.has('carol', b), table.has('dave', c), table.has('erin', a), table.has('bob', a)]).toEqual([false, true, true, false]);
    expect(entry(table, 1).recipient).toBe('erin');
  });

  it('refuses an id of the wrong size and an entry it does not hold', () => {
    const table = new DeliveredIdTable(4);
    expect(() => table.add('bob', new Uint8Array(15), 1)).toThrow(RangeError);
    expect(() => table.has('bob', new Uint8Array(17))).toThrow(RangeError);
    table.add('bob', new Uint8Array(16), 1);
    expect(() => table.recipientAt(1)).toThrow(RangeError);
    expect(() => table.ackedAtAt(-1)).toThrow(RangeError);
    expect(() => table.copyIdAt(1, new Uint8Array(16), 0)).toThrow(RangeError);
  });

  it('refuses a maximum its slots could not hold, and takes the largest it can', () => {
    expect(() => new DeliveredIdTable(100_000_001)).toThrow(RangeError);
    expect(() => new DeliveredIdTable(-1)).toThrow(RangeError);
    expect(() => new DeliveredIdTable(1.5)).toThrow(RangeError);
    // Slots are allocated as ids come, so the largest maximum costs nothing until it fills.
    const table = new DeliveredIdTable(100_000_000);
    expect(table.add('bob', new Uint8Array(16), 1)).toBe(true);
    expect(table.has('bob', new Uint8Array(16))).toBe(true);
  });

  it('holds nothing with a maximum of 0', () => {
    const table = new DeliveredIdTable(0);
    expect(table.add('bob', new Uint8Array(16), 1)).toBe(false);
    expect(table.has('bob', new Uint8Array(16))).toBe(false);
    expect(table.size).toBe(0);
  });
});
