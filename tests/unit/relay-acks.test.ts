import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { FrameOf } from '../../relay/protocol/index.js';
import { acceptAck, type AckDeps } from '../../relay/src/delivery/acks.js';
import { HeldEnvelopes } from '../../relay/src/delivery/held-envelopes.js';
import { createMetrics } from '../../relay/src/metrics.js';
import type { ReceiptPeer } from '../../relay/src/receipts.js';
import type { NewEnvelope } from '../../relay/src/store/ports.js';
import { RecordingClient, useDeliveryStore } from '../support/delivery.js';

const HOLD_MS = 20;
const UNCAPPED = { count: 100, bytes: 1_000_000 };

const delivery = useDeliveryStore(HOLD_MS);

/** The sender's receipt box, and the receipts its online connection was pushed. */
const aliceBox = new Uint8Array(randomBytes(16));
class ReceiptsOnline implements ReceiptPeer {
  readonly pushed: Array<FrameOf<'RECEIPT'>> = [];
  deliverReceipt(frame: FrameOf<'RECEIPT'>): void {
    this.pushed.push(frame);
  }
}

function relayParts(now: () => number): AckDeps & { held: HeldEnvelopes; alice: ReceiptsOnline; deliveries: () => Promise<number> } {
  const metrics = createMetrics({ queueDepth: () => 0 });
  const alice = new ReceiptsOnline();
  return {
    store: delivery.store,
    writes: delivery.writes,
    held: new HeldEnvelopes(delivery.writes, delivery.store.queue, HOLD_MS),
    metrics,
    receipts: { get: (box) => (Buffer.from(box).equals(aliceBox) ? alice : undefined) },
    options: { now },
    alice,
    // How many deliveries the latency histogram has observed.
    deliveries: async () => (await metrics.deliveryLatency.get()).values.find((value) => value.metricName === 'parley_delivery_latency_seconds_count')?.value ?? 0,
  };
}

function envelopeAskingReceipt(receivedAt: number): NewEnvelope {
  return { messageId: new Uint8Array(randomBytes(16)), envelope: Uint8Array.of(1), receivedAt, expiresAt: null, receiptBox: aliceBox };
}

describe('relay ACK path', () => {
  it('takes the ACK of a held envelope once: one delivery counted, one receipt, however often it is repeated', async () => {
    let now = 1_000;
    const deps = relayParts(() => now);
    const sender = new RecordingClient();
    const item = envelopeAskingReceipt(900);
    deps.held.add('bob', item, sender, 1);
    const bob = new RecordingClient();
    acceptAck(deps, bob, item.messageId, 5, 'bob');
    now = 1_200;
    acceptAck(deps, bob, item.messageId, 6, 'bob');
    expect(deps.alice.pushed).toEqual([{ name: 'RECEIPT', requestId: 0, messageId: item.messageId, ackedAt: 1_000 }]);
    expect(await deps.deliveries()).toBe(1);
    await delivery.committed();
    // Acked before its hold ended: never stored, and the sender has its OK.
    expect(delivery.store.queue.depth('bob')).toBe(0);
    expect(sender.sent).toEqual([{ name: 'OK', requestId: 1 }]);
    // Its receipt is stored all the same, until the sender acks it (the push may not have reached it).
    expect(delivery.store.receipts.page(aliceBox, 0, 10).map((receipt) => receipt.ackedAt)).toEqual([1_000]);
    expect(bob.failures).toEqual([]);
  });

  it('removes a stored envelope with the next commit, then counts the delivery and pushes the receipt', async () => {
    const deps = relayParts(() => 2_000);
    const item = envelopeAskingReceipt(1_500);
    expect(delivery.store.queue.enqueue('bob', item, UNCAPPED)).toBe('queued');
    const bob = new RecordingClient();
    acceptAck(deps, bob, item.messageId, 5, 'bob');
    expect(deps.alice.pushed).toEqual([]);
    await delivery.committed();
    expect(delivery.store.queue.depth('bob')).toBe(0);
    expect(deps.alice.pushed).toEqual([{ name: 'RECEIPT', requestId: 0, messageId: item.messageId, ackedAt: 2_000 }]);
    expect(await deps.deliveries()).toBe(1);
    // A receipt stays stored until its sender acks it.
    expect(delivery.store.receipts.page(aliceBox, 0, 10).map((receipt) => Buffer.from(receipt.messageId).toString('hex'))).toEqual([Buffer.from(item.messageId).toString('hex')]);
  });

  it("takes a sender's ACK of a RECEIPT off its box, so it is not sent again", async () => {
    const deps = relayParts(() => 3_000);
    const item = envelopeAskingReceipt(2_500);
    delivery.store.queue.enqueue('bob', item, UNCAPPED);
    delivery.store.queue.ack('bob', item.messageId, 2_600);
    const alice = new RecordingClient();
    alice.receiptBoxKey = Buffer.from(aliceBox).toString('hex');
    acceptAck(deps, alice, item.messageId, 9, 'alice');
    await delivery.committed();
    expect(delivery.store.receipts.page(aliceBox, 0, 10)).toEqual([]);
    expect(await deps.deliveries()).toBe(0);
  });

  it('lets an ACK of an id it does not know go, with nothing to answer', async () => {
    const deps = relayParts(() => 4_000);
    const bob = new RecordingClient();
    acceptAck(deps, bob, new Uint8Array(randomBytes(16)), 3, 'bob');
    await delivery.committed();
    expect([bob.sent, bob.failures, deps.alice.pushed, await deps.deliveries()]).toEqual([[], [], [], 0]);
  });
});
