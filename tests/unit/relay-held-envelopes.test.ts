import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { envelopeHasher, type EnvelopeHash, type EnvelopeHasher } from '../../relay/src/delivery/envelope-hash.js';
import { HeldEnvelopes, type HeldSender } from '../../relay/src/delivery/held-envelopes.js';
import { GroupCommit, type SyncCommitted } from '../../relay/src/store/group-commit.js';
import type { NewEnvelope, RelayStore } from '../../relay/src/store/ports.js';
import { openSqliteStore } from '../../relay/src/store/sqlite.js';
import { addUsers } from '../support/delivery.js';

const HOLD_MS = 25;
const UNCAPPED = { count: 1_000, bytes: 1_000_000 };

let dir: string;
let store: RelayStore;

beforeEach(async () => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setImmediate', 'performance'] });
  dir = await mkdtemp(path.join(tmpdir(), 'parley-held-'));
  store = openSqliteStore(dir);
  addUsers(store, ['bob']);
});

afterEach(async () => {
  vi.useRealTimers();
  store.close();
  await rm(dir, { recursive: true, force: true });
});

/** A sender that records what it was told, by request id. */
function recordingSender(): HeldSender & { readonly told: string[] } {
  const told: string[] = [];
  return {
    told,
    heldSettled: (requestId) => void told.push(`ok ${requestId}`),
    heldFailed: (requestId, error, delivered) => void told.push(`${delivered ? 'ok despite' : 'error'} ${requestId}: ${(error as Error).message}`),
  };
}

function envelope(bytes = 100): NewEnvelope {
  return { messageId: new Uint8Array(randomBytes(16)), envelope: new Uint8Array(bytes), receivedAt: Date.now(), expiresAt: null, receiptBox: null };
}

/** Held envelopes over the test's store, committing through a group commit on a grid of HOLD_MS. */
function heldOverStore(sync?: SyncCommitted, hasher?: EnvelopeHasher): { held: HeldEnvelopes; commits: () => number; units: () => number; failNextCommit: () => void } {
  let count = 0;
  let fail = false;
  const writes = new GroupCommit((work) => {
    if (fail) {
      fail = false;
      throw new Error('disk full');
    }
    const changed = store.transaction(work);
    count++;
    return changed;
  }, HOLD_MS, sync);
  const submit = vi.spyOn(writes, 'submit');
  return { held: new HeldEnvelopes(writes, store.queue, HOLD_MS, hasher), commits: () => count, units: () => submit.mock.calls.length, failNextCommit: () => (fail = true) };
}

/** Move the clock to 1 ms past a grid point: a hold begun now ends 2 × HOLD_MS - 1 from now, at the next but one. */
async function alignToGrid(): Promise<void> {
  const now = performance.now();
  await vi.advanceTimersByTimeAsync(Math.ceil(now / HOLD_MS) * HOLD_MS - now + 1);
}

const STEP_END = 2 * HOLD_MS - 1;

describe('held envelopes', () => {
  it('writes those held in one grid step in one commit, not before their hold ends, and only then tells each sender', async () => {
    const { held, commits, units } = heldOverStore();
    const alice = recordingSender();
    const carol = recordingSender();
    await alignToGrid();
    const first = envelope(100);
    const a = held.add('bob', first, alice, 1);
    await vi.advanceTimersByTimeAsync(5);
    const second = envelope(50);
    const b = held.add('bob', second, carol, 2);
    held.retried(a, carol, 3);
    b.ackedAt = Date.now();
    expect(held.pending('bob')).toEqual({ count: 2, bytes: 150 });

    await vi.advanceTimersByTimeAsync(STEP_END - 5 - 1);
    expect([alice.told, carol.told, commits(), store.queue.depth('bob')]).toEqual([[], [], 0, 0]);

    await vi.advanceTimersByTimeAsync(1);
    // One unit of the group commit for the step, not one per envelope.
    expect([commits(), units()]).toEqual([1, 1]);
    expect(alice.told).toEqual(['ok 1']);
    // The retry is answered with the first, in the order they were held.
    expect(carol.told).toEqual(['ok 3', 'ok 2']);
    // The unacked one is queued; the acked one is only remembered as delivered, so a retry of it is a duplicate.
    expect(store.queue.depth('bob')).toBe(1);
    expect(store.queue.admit('bob', second.messageId, 50, UNCAPPED, { count: 0, bytes: 0 })).toBe('duplicate');
    expect([held.size, held.pending('bob'), held.find('bob', first.messageId)]).toEqual([0, { count: 0, bytes: 0 }, undefined]);
  });

  it('gives an envelope held after a step has begun a commit of its own in the next step', async () => {
    const { held, commits } = heldOverStore();
    const alice = recordingSender();
    await alignToGrid();
    const first = envelope();
    const a = held.add('bob', first, alice, 1);
    await vi.advanceTimersByTimeAsync(STEP_END - 1);
    const second = envelope();
    const b = held.add('bob', second, alice, 2);
    // Held in two steps at once, each is found under its own key.
    expect([held.size, held.find('bob', first.messageId), held.find('bob', second.messageId)]).toEqual([2, a, b]);
    await vi.advanceTimersByTimeAsync(1);
    expect([commits(), alice.told]).toEqual([1, ['ok 1']]);
    expect([held.size, held.find('bob', first.messageId), held.find('bob', second.messageId)]).toEqual([1, undefined, b]);
    // Written, the first counts in bob's queue and no more as pending.
    expect(held.pending('bob')).toEqual({ count: 1, bytes: second.envelope.length });
    await vi.advanceTimersByTimeAsync(HOLD_MS);
    expect([commits(), alice.told, store.queue.depth('bob')]).toEqual([2, ['ok 1', 'ok 2'], 2]);
    expect([held.size, held.find('bob', second.messageId)]).toEqual([0, undefined]);
  });

  it('stretches the hold, and its grid, while recipients ack later than it (up to 8 holds), and shrinks it when they ack in time', async () => {
    const { held, commits } = heldOverStore();
    const alice = recordingSender();
    let requestId = 0;
    /** Hold 200 envelopes at once, each acked ackMs after it arrived (or never), and let their commit run. */
    const holdStep = async (ackMs: number | undefined): Promise<number> => {
      await alignToGrid();
      for (let i = 0; i < 200; i++) {
        const item = envelope(10);
        const one = held.add('bob', item, alice, ++requestId);
        if (ackMs !== undefined) one.ackedAt = item.receivedAt + ackMs;
      }
      await vi.advanceTimersByTimeAsync(2 * held.currentHoldMs);
      expect(held.size).toBe(0);
      return held.currentHoldMs;
    };
    expect(held.currentHoldMs).toBe(HOLD_MS);
    // Never acked in time: each counts as acked at the end of its hold, so the mean passes half the hold and it doubles.
    const stretched = [await holdStep(undefined), await holdStep(undefined), await holdStep(undefined), await holdStep(undefined)];
    expect(stretched).toEqual([2 * HOLD_MS, 4 * HOLD_MS, 8 * HOLD_MS, 8 * HOLD_MS]);
    // Held now, an envelope waits the stretched hold (on a grid as coarse) before it is written.
    await alignToGrid();
    const stepStart = performance.now();
    const firstGridPoint = Math.ceil((stepStart + 8 * HOLD_MS) / (8 * HOLD_MS)) * 8 * HOLD_MS;
    const before = commits();
    held.add('bob', envelope(10), alice, ++requestId);
    await vi.advanceTimersByTimeAsync(firstGridPoint - stepStart - 1);
    expect([commits(), held.size]).toEqual([before, 1]);
    await vi.advanceTimersByTimeAsync(1);
    expect([commits(), held.size]).toEqual([before + 1, 0]);
    // Acked within a few milliseconds again: a step to two holds (a third above twice the mean), the next to the base hold.
    expect([await holdStep(2), await holdStep(2)]).toEqual([2 * HOLD_MS, HOLD_MS]);
    expect(alice.told).toHaveLength(requestId);
  });

  it('counts an ACK hours after its arrival (the clock moved) as the longest hold, so one alone does not stretch the hold', async () => {
    const { held } = heldOverStore();
    const alice = recordingSender();
    await alignToGrid();
    const late = envelope(10);
    held.add('bob', late, alice, 1).ackedAt = late.receivedAt + 3_600_000;
    await vi.advanceTimersByTimeAsync(2 * HOLD_MS);
    expect([held.size, held.currentHoldMs]).toEqual([0, HOLD_MS]);
  });

  it('counts an ACK stamped before its arrival (the clock went back) as no wait, so one alone does not shrink a stretched hold', async () => {
    const { held } = heldOverStore();
    const alice = recordingSender();
    let requestId = 0;
    // Never acked in time: the hold doubles.
    await alignToGrid();
    for (let i = 0; i < 200; i++) held.add('bob', envelope(10), alice, ++requestId);
    await vi.advanceTimersByTimeAsync(2 * held.currentHoldMs);
    expect(held.currentHoldMs).toBe(2 * HOLD_MS);
    await alignToGrid();
    const early = envelope(10);
    held.add('bob', early, alice, ++requestId).ackedAt = early.receivedAt - 3_600_000;
    await vi.advanceTimersByTimeAsync(2 * held.currentHoldMs);
    expect([held.size, held.currentHoldMs]).toEqual([0, 2 * HOLD_MS]);
  });

  it('answers an envelope whose write fails with an error, and still writes the rest of its step', async () => {
    const { held } = heldOverStore();
    const alice = recordingSender();
    await alignToGrid();
    const good = envelope();
    const orphan = envelope();
    held.add('bob', good, alice, 1);
    // Nobody by that name: the queue refuses the row.
    held.add('nobody', orphan, alice, 2);
    await vi.advanceTimersByTimeAsync(STEP_END);
    expect(alice.told).toEqual(['ok 1', 'error 2: FOREIGN KEY constraint failed']);
    expect(store.queue.depth('bob')).toBe(1);
    expect(held.pending('nobody')).toEqual({ count: 0, bytes: 0 });
  });

  it('when the commit itself fails, errors every sender (and retry) except those whose recipient already acked', async () => {
    const { held, failNextCommit } = heldOverStore();
    const alice = recordingSender();
    const [first, second] = [envelope(), envelope()];
    await alignToGrid();
    const carol = recordingSender();
    const a = held.add('bob', first, alice, 1);
    const b = held.add('bob', second, alice, 2);
    b.ackedAt = Date.now();
    // Retries get the same answer as the SEND they repeat.
    held.retried(a, carol, 3);
    held.retried(b, carol, 4);
    failNextCommit();
    await vi.advanceTimersByTimeAsync(STEP_END);
    expect(alice.told).toEqual(['error 1: disk full', 'ok despite 2: disk full']);
    expect(carol.told).toEqual(['error 3: disk full', 'ok despite 4: disk full']);
    expect([held.size, store.queue.depth('bob')]).toEqual([0, 0]);
  });

  it('holds an envelope no more once written: while its commit waits for the disk, its ACK finds it in the queue and its OK waits', async () => {
    let finishSync: ((error: Error | undefined) => void) | undefined;
    const { held } = heldOverStore((done) => (finishSync = done));
    const alice = recordingSender();
    await alignToGrid();
    const item = envelope(100);
    held.add('bob', item, alice, 1);
    await vi.advanceTimersByTimeAsync(STEP_END);
    // Written and counted by the queue, not held twice over; the sender hears nothing until the sync is done.
    expect([held.find('bob', item.messageId), held.pending('bob'), store.queue.depth('bob'), alice.told]).toEqual([undefined, { count: 0, bytes: 0 }, 1, []]);
    // So an ACK now removes it from the queue (held, the ACK would only have marked it).
    expect(store.queue.ack('bob', item.messageId, Date.now())).toBeDefined();
    expect(store.queue.depth('bob')).toBe(0);
    finishSync?.(undefined);
    expect(alice.told).toEqual(['ok 1']);
  });

  it('answers a step whose envelopes were all acked in time without waiting for the disk: it wrote nothing to flush', async () => {
    let syncs = 0;
    const { held, commits } = heldOverStore(() => void syncs++);
    const alice = recordingSender();
    await alignToGrid();
    const [first, second] = [envelope(), envelope()];
    held.add('bob', first, alice, 1).ackedAt = Date.now();
    held.add('bob', second, alice, 2).ackedAt = Date.now();
    await vi.advanceTimersByTimeAsync(STEP_END);
    expect([commits(), syncs, alice.told, store.queue.depth('bob')]).toEqual([1, 0, ['ok 1', 'ok 2'], 0]);
    // Remembered as delivered all the same: a retry of either is a duplicate.
    expect(store.queue.admit('bob', first.messageId, 100, UNCAPPED, held.pending('bob'))).toBe('duplicate');
  });

  it('tells apart envelopes whose hashes collide, by recipient and by id', async () => {
    // Every envelope under one hash: each lookup must walk the chain and compare.
    const { held } = heldOverStore(undefined, () => 7 as EnvelopeHash);
    const alice = recordingSender();
    addUsers(store, ['carol']);
    await alignToGrid();
    const [first, second] = [envelope(), envelope()];
    // The same id to another recipient is another envelope.
    const toCarol: NewEnvelope = { ...first, envelope: new Uint8Array(30) };
    const a = held.add('bob', first, alice, 1);
    const b = held.add('bob', second, alice, 2);
    const c = held.add('carol', toCarol, alice, 3);
    expect([held.find('bob', first.messageId), held.find('bob', second.messageId), held.find('carol', first.messageId)]).toEqual([a, b, c]);
    expect([held.find('carol', second.messageId), held.find('bob', new Uint8Array(16)), held.find('bob', first.messageId.subarray(0, 8))]).toEqual([undefined, undefined, undefined]);
    expect([held.size, held.pending('bob'), held.pending('carol')]).toEqual([3, { count: 2, bytes: 200 }, { count: 1, bytes: 30 }]);
    await vi.advanceTimersByTimeAsync(STEP_END);
    expect([held.size, store.queue.depth('bob'), store.queue.depth('carol'), alice.told]).toEqual([0, 2, 1, ['ok 1', 'ok 2', 'ok 3']]);
  });
});

describe('envelope hasher', () => {
  it('gives the same envelope the same hash, as a small non-negative integer, whatever view its id arrives in', () => {
    const hash = envelopeHasher();
    const id = new Uint8Array(randomBytes(16));
    const framed = new Uint8Array(40);
    framed.set(id, 9);
    const h = hash('bob', id);
    expect(hash('bob', framed.subarray(9, 25))).toBe(h);
    expect(Number.isInteger(h) && h >= 0 && h < 2 ** 30).toBe(true);
  });

  it('spreads ids that differ in one byte, and recipients that differ in one character', () => {
    const hash = envelopeHasher();
    const base = new Uint8Array(16);
    const hashes = new Set<number>();
    for (let byte = 0; byte < 16; byte++) {
      for (const value of [1, 128, 255]) {
        const id = base.slice();
        id[byte] = value;
        hashes.add(hash('bob', id));
      }
    }
    for (const name of ['bob', 'bob2', 'bod', 'Bob', 'obb']) hashes.add(hash(name, base));
    // 48 ids and 5 names, one collision at most in 2^30 values.
    expect(hashes.size).toBeGreaterThanOrEqual(52);
  });
});
