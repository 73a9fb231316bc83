import type { FrameOf, WireErrorCode } from '../protocol/index.js';
import type { QueuedEnvelope } from './store/ports.js';

export function okFrame(requestId: number): FrameOf<'OK'> {
  return { name: 'OK', requestId };
}

/** An ERROR reply; requestId 0 means the error concerns the connection, not one request. */
export function errorFrame(requestId: number, code: WireErrorCode, message: string, retryAfterMs = 0): FrameOf<'ERROR'> {
  return { name: 'ERROR', requestId, code, message, retryAfterMs };
}

export function deliverFrame(item: Omit<QueuedEnvelope, 'seq'>): FrameOf<'DELIVER'> {
  return { name: 'DELIVER', requestId: 0, messageId: item.messageId, envelope: item.envelope, receivedAt: item.receivedAt };
}
