import { MAX_ENVELOPE_BYTES, type FrameOf } from '../../protocol/index.js';
import { missingCaseError } from '../missing-case.js';
import { deliverFrame, errorFrame, okFrame } from '../replies.js';
import type { AckedEnvelope, QueueCaps, RelayStore } from '../store/ports.js';

/** The reply to a SEND, and the DELIVER to push if the envelope was queued just now. */
export interface SendOutcome {
  readonly reply: FrameOf<'OK'> | FrameOf<'ERROR'>;
  readonly push?: { readonly to: string; readonly frame: FrameOf<'DELIVER'> };
}

export interface SendLimits {
  readonly caps: QueueCaps;
  /** Longest ttl a SEND_EXPIRING may ask for. */
  readonly maxTtlMs: number;
}

/** Queue an envelope for its recipient. The sender is deliberately not recorded. */
export type SendFrame = FrameOf<'SEND'> | FrameOf<'SEND_EXPIRING'> | FrameOf<'SEND_WITH_RECEIPT'>;

function ttlOf(frame: SendFrame): number | undefined {
  switch (frame.name) {
    case 'SEND':
      return undefined;
    case 'SEND_EXPIRING':
      return frame.ttlMs;
    case 'SEND_WITH_RECEIPT':
      return frame.ttlMs === 0 ? undefined : frame.ttlMs;
    default:
      throw missingCaseError(frame);
  }
}

/** receiptBox: the sender's box when the frame asks for a receipt (SEND_WITH_RECEIPT). */
export function handleSend(frame: SendFrame, store: RelayStore, limits: SendLimits, now: number, receiptBox: Uint8Array | null): SendOutcome {
  if (frame.envelope.length > MAX_ENVELOPE_BYTES) {
    return { reply: errorFrame(frame.requestId, 'ENVELOPE_TOO_LARGE', `envelopes are at most ${MAX_ENVELOPE_BYTES} bytes`) };
  }
  const ttlMs = ttlOf(frame);
  if (ttlMs !== undefined && (ttlMs < 1 || ttlMs > limits.maxTtlMs)) {
    return { reply: errorFrame(frame.requestId, 'TTL_INVALID', `ttlMs must be from 1 to ${limits.maxTtlMs}`) };
  }
  if (!store.users.exists(frame.to)) {
    return { reply: errorFrame(frame.requestId, 'USER_NOT_FOUND', 'no such user') };
  }
  const item = { messageId: frame.messageId, envelope: frame.envelope, receivedAt: now, expiresAt: ttlMs === undefined ? null : now + ttlMs,
    receiptBox: frame.name === 'SEND_WITH_RECEIPT' ? receiptBox : null,
  };
  const result = store.queue.enqueue(frame.to, item, limits.caps);
  switch (result) {
    case 'queued':
      return { reply: okFrame(frame.requestId), push: { to: frame.to, frame: deliverFrame(item) } };
    case 'duplicate':
      // Already waiting: the sender retried after a lost OK. Accept it, queue it once.
      return { reply: okFrame(frame.requestId) };
    case 'full':
      return { reply: errorFrame(frame.requestId, 'QUEUE_FULL', "the recipient's queue is full") };
    default:
      throw missingCaseError(result);
  }
}

/** The recipient has stored the envelope: it leaves the queue. Undefined for an unknown id (acks may repeat). */
export function handleAck(frame: FrameOf<'ACK'>, username: string, store: RelayStore, now: number): AckedEnvelope | undefined {
  return store.queue.ack(username, frame.messageId, now);
}
