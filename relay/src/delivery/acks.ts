import { handleAck } from '../handlers/messages.js';
import { boxOfKey } from '../receipts.js';
import { LAZY_COMMIT_MS, within } from '../store/group-commit.js';
import type { RelayMetrics } from '../metrics.js';
import type { ResolvedRelayOptions } from '../options.js';
import type { ReceiptBoxes } from '../receipts.js';
import type { DeliveryClient, DeliveryDeps } from './client.js';

/** What an ACK needs of the relay (the connections' deps object has it). */
export interface AckDeps extends Pick<DeliveryDeps, 'store' | 'writes' | 'held'> {
  readonly metrics: Pick<RelayMetrics, 'deliveryLatency'>;
  readonly receipts: Pick<ReceiptBoxes, 'get'>;
  readonly options: Pick<ResolvedRelayOptions, 'now'>;
}
import type { HeldEnvelope } from './held-envelopes.js';

/**
 * An ACK from `username` of a delivered envelope (which files a receipt if one was asked for), or of a RECEIPT (which
 * then stops being resent). No reply, so nothing waits for its commit.
 */
export function acceptAck(deps: AckDeps, client: DeliveryClient, messageId: Uint8Array, requestId: number, username: string): void {
  const now = deps.options.now();
  const early = deps.held.find(username, messageId);
  if (early !== undefined) earlyAck(deps, early, now);
  else storedAck(deps, client, messageId, requestId, username, now);
}

/** An ACK of a stored envelope (or of a RECEIPT): written with the next commit. A function of its own, so an early ACK makes none of its closures. */
function storedAck(deps: AckDeps, client: DeliveryClient, messageId: Uint8Array, requestId: number, username: string, now: number): void {
  const { store, writes, metrics, receipts } = deps;
  const boxKey = client.receiptBoxKey;
  writes.submit(
    () => {
      const acked = handleAck(messageId, username, store, now);
      // Not an envelope's ACK: a RECEIPT's, kept under this user's box.
      if (acked === undefined && boxKey !== undefined) store.receipts.remove(boxOfKey(boxKey), messageId);
      return acked;
    },
    (acked) => {
      if (acked === undefined) return;
      metrics.deliveryLatency.observe(Math.max(0, now - acked.receivedAt) / 1000);
      if (acked.receiptBox !== null) {
        receipts.get(acked.receiptBox)?.deliverReceipt({ name: 'RECEIPT', requestId: 0, messageId, ackedAt: now });
      }
    },
    (error) => void client.answerFailure(requestId, error),
    within(LAZY_COMMIT_MS),
  );
}

/**
 * The recipient acked a held envelope before it was stored: it never will be (its commit only remembers the id).
 * The sender's OK still waits for that commit, where it leaves with the other OKs of the batch in one write.
 */
function earlyAck(deps: AckDeps, envelope: HeldEnvelope, now: number): void {
  if (envelope.ackedAt !== undefined) return;
  envelope.ackedAt = now;
  deps.metrics.deliveryLatency.observe(Math.max(0, now - envelope.item.receivedAt) / 1000);
  const box = envelope.item.receiptBox;
  // The receipt is filed by the same commit; the sender's ACK of it is submitted after, so it finds it.
  if (box !== null) deps.receipts.get(box)?.deliverReceipt({ name: 'RECEIPT', requestId: 0, messageId: envelope.item.messageId, ackedAt: now });
}
