import { MAX_ENVELOPE_BYTES, type FrameOf } from '../../protocol/index.js';
import { missingCaseError } from '../missing-case.js';
import { errorFrame, okFrame } from '../replies.js';
import type { AckedEnvelope, EnqueueResult, NewEnvelope, QueueCaps, RelayStore } from '../store/ports.js';

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

/** A SEND that passed its checks: the envelope to queue (or hold) for `to`. */
export interface AcceptedSend {
  readonly to: string;
  readonly item: NewEnvelope;
}

/** The checks every SEND passes before anything is stored: size, ttl, a known recipient. receiptBox: the sender's box when the frame asks for a receipt. */
export function checkSend(frame: SendFrame, store: RelayStore, limits: SendLimits, now: number, receiptBox: Uint8Array | null): AcceptedSend | FrameOf<'ERROR'> {
  if (frame.envelope.length > MAX_ENVELOPE_BYTES) {
    return errorFrame(frame.requestId, 'ENVELOPE_TOO_LARGE', `envelopes are at most ${MAX_ENVELOPE_BYTES} bytes`);
  }
  const ttlMs = ttlOf(frame);
  if (ttlMs !== undefined && (ttlMs < 1 || ttlMs > limits.maxTtlMs)) {
    return errorFrame(frame.requestId, 'TTL_INVALID', `ttlMs must be from 1 to ${limits.maxTtlMs}`);
  }
  if (!store.users.exists(frame.to)) {
    return errorFrame(frame.requestId, 'USER_NOT_FOUND', 'no such user');
  }
  const item = { messageId: frame.messageId, envelope: frame.envelope, receivedAt: now, expiresAt: ttlMs === undefined ? null : now + ttlMs, receiptBox };
  return { to: frame.to, item };
}

/** The reply to a queue decision; 'queued' and 'duplicate' are both an OK (a retry after a lost OK is queued once). */
export function sendReply(requestId: number, result: EnqueueResult): FrameOf<'OK'> | FrameOf<'ERROR'> {
  switch (result) {
    case 'queued':
    case 'duplicate':
      return okFrame(requestId);
    case 'full':
      return errorFrame(requestId, 'QUEUE_FULL', "the recipient's queue is full");
    default:
      throw missingCaseError(result);
  }
}

/** The recipient has stored the envelope: it leaves the queue. Undefined for an unknown id (acks may repeat). */
export function handleAck(messageId: Uint8Array, username: string, store: RelayStore, now: number): AckedEnvelope | undefined {
  return store.queue.ack(username, messageId, now);
}
