import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { utf8 } from '../../app/core/crypto/bytes.js';
import { ratchetDecrypt, ratchetEncrypt } from '../../app/core/crypto/ratchet.js';
import { MAX_SKIP, MAX_SKIPPED_KEYS, SKIPPED_KEY_TTL_MS, type RatchetState } from '../../app/core/crypto/ratchet-state.js';
import { loadSodium, type Sodium } from '../../app/core/crypto/sodium.js';
import { establish, unwrap } from '../support/sessions.js';

let sodium: Sodium;
beforeAll(async () => {
  sodium = await loadSodium();
});

const NOW = 1_800_000_000_000;
type Side = 'alice' | 'bob';
const other = (side: Side): Side => (side === 'alice' ? 'bob' : 'alice');

interface Sent {
  id: number;
  to: Side;
  message: Uint8Array;
}

function send(states: Record<Side, RatchetState>, from: Side, id: number): Sent {
  const { state, message } = unwrap(ratchetEncrypt(sodium, states[from], utf8.encode(`message ${id}`)));
  states[from] = state;
  return { id, to: other(from), message };
}

/** Decrypt and insist that a failure hands back nothing and leaves the input state as it was. */
function receive(states: Record<Side, RatchetState>, sent: Sent): string | { code: string } {
  const before = structuredClone(states[sent.to]);
  const result = ratchetDecrypt(sodium, states[sent.to], sent.message, NOW);
  expect(states[sent.to]).toEqual(before);
  if (!result.ok) return { code: result.error.code };
  states[sent.to] = result.value.state;
  return utf8.decode(result.value.plaintext);
}

/** A fresh session in which Bob has received Alice's first message, so both can send. */
function started(): { states: Record<Side, RatchetState> } {
  const { alice, bob } = establish(sodium);
  const states = { alice, bob };
  const first = send(states, 'alice', -1);
  expect(receive(states, first)).toBe('message -1');
  return { states };
}

const Op = fc.oneof(
  fc.record({ kind: fc.constant('send' as const), from: fc.constantFrom<Side>('alice', 'bob') }),
  fc.record({ kind: fc.constant('deliver' as const), pick: fc.nat() }),
  fc.record({ kind: fc.constant('replay' as const), pick: fc.nat() }),
);

describe('Double Ratchet properties', () => {
  it('any delivery order decrypts each message exactly once; replays are rejected with the state unchanged', () => {
    fc.assert(
      fc.property(fc.array(Op, { minLength: 1, maxLength: 40 }), fc.array(fc.nat(), { maxLength: 40 }), (ops, finalOrder) => {
        const { states } = started();
        const inFlight: Sent[] = [];
        const delivered: Sent[] = [];
        const received = new Map<number, number>();
        let nextId = 0;
        const deliver = (at: number): void => {
          const [sent] = inFlight.splice(at % inFlight.length, 1) as [Sent];
          expect(receive(states, sent)).toBe(`message ${sent.id}`);
          received.set(sent.id, (received.get(sent.id) ?? 0) + 1);
          delivered.push(sent);
        };
        for (const op of ops) {
          if (op.kind === 'send') inFlight.push(send(states, op.from, nextId++));
          else if (op.kind === 'deliver' && inFlight.length > 0) deliver(op.pick);
          else if (op.kind === 'replay' && delivered.length > 0) {
            const again = receive(states, delivered[op.pick % delivered.length] as Sent);
            expect(typeof again).toBe('object');
          }
        }
        for (const pick of finalOrder) if (inFlight.length > 0) deliver(pick);
        while (inFlight.length > 0) deliver(0);
        expect(received.size).toBe(nextId);
        expect([...received.values()].every((count) => count === 1)).toBe(true);
      }),
      { numRuns: 60 },
    );
  });

  it('a flipped bit in header or body is rejected with the state unchanged, and the genuine message still decrypts', () => {
    fc.assert(
      fc.property(fc.nat(), fc.integer({ min: 0, max: 7 }), fc.integer({ min: 0, max: 3 }), (position, bit, earlier) => {
        const { states } = started();
        const queue = Array.from({ length: earlier + 1 }, (_, id) => send(states, 'alice', id));
        const target = queue[earlier] as Sent;
        const tampered = Uint8Array.from(target.message);
        const at = position % tampered.length;
        tampered[at] = (tampered[at] ?? 0) ^ (1 << bit);
        const result = receive(states, { ...target, message: tampered });
        expect(typeof result).toBe('object');
        expect(receive(states, target)).toBe(`message ${earlier}`);
      }),
      { numRuns: 150 },
    );
  });

  it('rejects truncated messages with a stable code', () => {
    const { states } = started();
    const sent = send(states, 'alice', 0);
    for (const length of [0, 10, 39, 40, 55]) {
      expect(receive(states, { ...sent, message: sent.message.subarray(0, length) })).toEqual({ code: 'DECRYPT_MALFORMED' });
    }
    expect(receive(states, sent)).toBe('message 0');
  });

  it('a jump past MAX_SKIP is rejected with the state unchanged; a jump of exactly MAX_SKIP is not', () => {
    const { states } = started();
    const queue = Array.from({ length: MAX_SKIP + 2 }, (_, id) => send(states, 'alice', id));
    expect(receive(states, queue[MAX_SKIP + 1] as Sent)).toEqual({ code: 'DECRYPT_TOO_MANY_SKIPPED' });
    expect(receive(states, queue[MAX_SKIP] as Sent)).toBe(`message ${MAX_SKIP}`);
    expect(receive(states, queue[0] as Sent)).toBe('message 0');
    expect(receive(states, queue[MAX_SKIP + 1] as Sent)).toBe(`message ${MAX_SKIP + 1}`);
  });

  it('a jump past MAX_SKIP across a DH step (previous chain length) is rejected', () => {
    const { states } = started();
    const fromBob = send(states, 'bob', 0);
    Array.from({ length: MAX_SKIP + 1 }, (_, id) => send(states, 'alice', id + 1));
    expect(receive(states, fromBob)).toBe('message 0');
    const afterStep = send(states, 'alice', 5000);
    expect(receive(states, afterStep)).toEqual({ code: 'DECRYPT_TOO_MANY_SKIPPED' });
  });

  it('after a DH step an earlier snapshot cannot decrypt new messages, and a later one cannot recover earlier message keys', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 5 }), (before, after) => {
        const { states } = started();
        const earlier = structuredClone(states.bob);
        const old = Array.from({ length: before }, (_, id) => send(states, 'alice', id));
        for (const sent of old) receive(states, sent);
        // Ratchet keys turn over on both sides: Bob's reply makes Alice step, her answer makes Bob
        // step to a fresh key pair the earlier snapshot never held, and his next reply makes Alice step again.
        expect(receive(states, send(states, 'bob', 100))).toBe('message 100');
        expect(receive(states, send(states, 'alice', 101))).toBe('message 101');
        expect(receive(states, send(states, 'bob', 102))).toBe('message 102');
        const fresh = Array.from({ length: after }, (_, id) => send(states, 'alice', 200 + id));
        const later = structuredClone(states.bob);
        for (const sent of fresh) {
          expect(ratchetDecrypt(sodium, earlier, sent.message, NOW).ok).toBe(false);
          expect(receive(states, sent)).toBe(`message ${sent.id}`);
        }
        for (const sent of old) expect(ratchetDecrypt(sodium, later, sent.message, NOW).ok).toBe(false);
      }),
      { numRuns: 25 },
    );
  });

  it('skipped keys expire and their store is capped', () => {
    const { states } = started();
    const late = send(states, 'alice', 0);
    const onTime = send(states, 'alice', 1);
    expect(receive(states, onTime)).toBe('message 1');
    expect(states.bob.skipped).toHaveLength(1);
    const muchLater = ratchetDecrypt(sodium, states.bob, send(states, 'alice', 2).message, NOW + SKIPPED_KEY_TTL_MS + 1);
    const next = unwrap(muchLater).state;
    expect(next.skipped).toHaveLength(0);
    expect(ratchetDecrypt(sodium, next, late.message, NOW).ok).toBe(false);
    states.bob = next;

    for (let round = 0; round < 3; round += 1) {
      const burst = Array.from({ length: MAX_SKIP + 1 }, (_, id) => send(states, 'alice', id));
      expect(receive(states, burst[MAX_SKIP] as Sent)).toBe(`message ${MAX_SKIP}`);
      expect(receive(states, send(states, 'bob', round))).toBe(`message ${round}`);
    }
    expect(states.bob.skipped).toHaveLength(MAX_SKIPPED_KEYS);
  });
});
