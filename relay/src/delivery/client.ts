import type { ServerFrame } from '../../protocol/index.js';
import type { SendLimits } from '../handlers/messages.js';
import type { RelayRateLimiter } from '../limits/rate-limiter.js';
import type { RelayMetrics } from '../metrics.js';
import type { ResolvedRelayOptions } from '../options.js';
import type { ReceiptBoxes } from '../receipts.js';
import type { Router } from '../router.js';
import type { GroupCommit } from '../store/group-commit.js';
import type { RelayStore } from '../store/ports.js';
import type { HeldEnvelopes, HeldSender } from './held-envelopes.js';

/** What delivering envelopes needs of the relay: part of every connection's deps object. */
export interface DeliveryDeps {
  readonly store: RelayStore;
  /** SENDs and ACKs are written through this, one transaction per event-loop turn. */
  readonly writes: GroupCommit;
  readonly router: Router;
  readonly options: ResolvedRelayOptions;
  readonly limiter: RelayRateLimiter;
  readonly metrics: RelayMetrics;
  readonly receipts: ReceiptBoxes;
  /** Envelopes pushed to online recipients and not yet stored. */
  readonly held: HeldEnvelopes;
  /** The queue caps and longest ttl every SEND is checked against (from the options). */
  readonly sendLimits: SendLimits;
}

/** What delivering envelopes needs of the authenticated connection a SEND or an ACK came in on. */
export interface DeliveryClient extends HeldSender {
  /** This user's receipt box as ReceiptBoxes keys it (hex). */
  readonly receiptBoxKey: string | undefined;
  /** Hands a frame to the client's outbox; false if the socket is no longer open. */
  send(frame: ServerFrame): boolean;
  /** Answers a request a rate limit refused, and reads nothing more from the client for a while. */
  rateLimited(requestId: number, message: string, retryAfterMs: number): void;
  /** Answers a request whose work failed: STORAGE_FULL (then true) or INTERNAL. */
  answerFailure(requestId: number, error: unknown): boolean;
}
