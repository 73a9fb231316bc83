import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { FrameOf } from '../../relay/protocol/index.js';
import { HeldEnvelopes } from '../../relay/src/delivery/held-envelopes.js';
import { acceptSend, type SendDeps } from '../../relay/src/delivery/sends.js';
import type { SendFrame } from '../../relay/src/handlers/messages.js';
import { Router, type Peer } from '../../relay/src/router.js';
import { RecordingClient, useDeliveryStore } from '../support/delivery.js';

const HOLD_MS = 20;

const delivery = useDeliveryStore(HOLD_MS);

const senders: RecordingClient[] = [];

function sender(): RecordingClient {
  const client = new RecordingClient();
  senders.push(client);
  return client;
}

afterEach(() => {
  // No request of these tests fails.
  expect(senders.splice(0).flatMap((client) => client.failures)).toEqual([]);
});

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

/** A recipient's live connection, which takes no push while it receives its stored queue. */
class RecordingPeer implements Peer {
  receivingQueue = false;
  readonly pushed: string[] = [];

  deliver(frame: FrameOf<'DELIVER'>): boolean {
    if (this.receivingQueue) return false;
    this.pushed.push(hex(frame.messageId));
    return true;
  }

  notify(): void {}
  replace(): void {}
}

function relayParts(retryAfterMs = 0, caps = { count: 100, bytes: 1_000_000 }): SendDeps & { router: Router; held: HeldEnvelopes } {
  return {
    store: delivery.store,
    writes: delivery.writes,
    router: new Router(),
    held: new HeldEnvelopes(delivery.writes, delivery.store.queue, HOLD_MS),
    sendLimits: { caps, maxTtlMs: 60_000 },
    limiter: { takeMessageNow: () => retryAfterMs },
    options: { now: () => Date.now(), holdMs: HOLD_MS },
  };
}

function send(to = 'bob', requestId = 1, messageId = new Uint8Array(randomBytes(16))): SendFrame {
  return { name: 'SEND', requestId, to, messageId, envelope: Uint8Array.of(1, 2, 3) };
}

describe('relay SEND path', () => {
  it('pushes to an online recipient at once and holds the envelope; its OK waits for the commit', async () => {
    const deps = relayParts();
    const bob = new RecordingPeer();
    deps.router.attach('bob', bob);
    const alice = sender();
    const frame = send();
    expect(acceptSend(deps, alice, frame, 'alice')).toBeUndefined();
    expect(bob.pushed).toEqual([hex(frame.messageId)]);
    expect(deps.held.find('bob', frame.messageId)).toBeDefined();
    expect(alice.sent).toEqual([]);
    await delivery.committed();
    expect(alice.sent).toEqual([{ name: 'OK', requestId: 1 }]);
    // Not acked within its hold: stored.
    expect(delivery.store.queue.depth('bob')).toBe(1);
  });

  it.each([
    ['count', { count: 2, bytes: 1_000_000 }],
    ['bytes', { count: 100, bytes: 7 }],
  ])("counts envelopes held for their ACK against the recipient's queue cap on %s: the next SEND is refused QUEUE_FULL", async (_label, caps) => {
    const deps = relayParts(0, caps);
    const bob = new RecordingPeer();
    deps.router.attach('bob', bob);
    const alice = sender();
    // Three bytes each: two fit under either cap, a third does not.
    for (const requestId of [1, 2, 3]) acceptSend(deps, alice, send('bob', requestId), 'alice');
    expect(bob.pushed).toHaveLength(2);
    expect(alice.sent).toEqual([expect.objectContaining({ name: 'ERROR', requestId: 3, code: 'QUEUE_FULL' })]);
    await delivery.committed();
    expect(delivery.store.queue.depth('bob')).toBe(2);
  });

  it('stores first for a recipient receiving its stored queue, and pushes once stored', async () => {
    const deps = relayParts();
    const bob = new RecordingPeer();
    bob.receivingQueue = true;
    deps.router.attach('bob', bob);
    const alice = sender();
    const frame = send();
    const answered = acceptSend(deps, alice, frame, 'alice');
    // Not held: a held envelope is stored only after its hold, past the end of the drain that should have read it.
    expect(deps.held.find('bob', frame.messageId)).toBeUndefined();
    bob.receivingQueue = false;
    await answered;
    expect(delivery.store.queue.depth('bob')).toBe(1);
    expect(alice.sent).toEqual([{ name: 'OK', requestId: 1 }]);
    expect(bob.pushed).toEqual([hex(frame.messageId)]);
  });

  it('stores for an offline recipient, then OKs', async () => {
    const deps = relayParts();
    const alice = sender();
    await acceptSend(deps, alice, send(), 'alice');
    expect(delivery.store.queue.depth('bob')).toBe(1);
    expect(alice.sent).toEqual([{ name: 'OK', requestId: 1 }]);
  });

  it('pushes a retry of a held envelope no more, and OKs each when the first is stored', async () => {
    const deps = relayParts();
    const bob = new RecordingPeer();
    deps.router.attach('bob', bob);
    const alice = sender();
    const messageId = new Uint8Array(randomBytes(16));
    acceptSend(deps, alice, send('bob', 1, messageId), 'alice');
    acceptSend(deps, alice, send('bob', 2, messageId), 'alice');
    expect(bob.pushed).toEqual([hex(messageId)]);
    await delivery.committed();
    expect(alice.sent).toEqual([
      { name: 'OK', requestId: 1 },
      { name: 'OK', requestId: 2 },
    ]);
    expect(delivery.store.queue.depth('bob')).toBe(1);
  });

  it('answers a SEND to an unknown user with USER_NOT_FOUND and stores nothing', () => {
    const deps = relayParts();
    const alice = sender();
    expect(acceptSend(deps, alice, send('nobody'), 'alice')).toBeUndefined();
    expect(alice.sent).toEqual([{ name: 'ERROR', requestId: 1, code: 'USER_NOT_FOUND', message: 'no such user', retryAfterMs: 0 }]);
  });

  it('refuses a SEND past the rate limit with its retry-after, and neither stores nor pushes it', () => {
    const deps = relayParts(1_500);
    const bob = new RecordingPeer();
    deps.router.attach('bob', bob);
    const alice = sender();
    expect(acceptSend(deps, alice, send('bob', 7), 'alice')).toBeUndefined();
    expect(alice.refused).toEqual([[7, 1_500]]);
    expect(bob.pushed).toEqual([]);
    expect(deps.held.pending('bob').count).toBe(0);
  });
});
