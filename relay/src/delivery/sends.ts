import { checkSend, sendReply, type AcceptedSend, type SendFrame } from '../handlers/messages.js';
import { boxOfKey } from '../receipts.js';
import { deliverFrame } from '../replies.js';
import type { Peer } from '../router.js';
import type { QueueCaps } from '../store/ports.js';
import type { RelayRateLimiter } from '../limits/rate-limiter.js';
import type { ResolvedRelayOptions } from '../options.js';
import type { DeliveryClient, DeliveryDeps } from './client.js';

/** What a SEND needs of the relay (the connections' deps object has it). */
export interface SendDeps extends Pick<DeliveryDeps, 'store' | 'writes' | 'router' | 'held' | 'sendLimits'> {
  readonly limiter: Pick<RelayRateLimiter, 'takeMessageNow'>;
  readonly options: Pick<ResolvedRelayOptions, 'now' | 'holdMs'>;
}

/**
 * A SEND from `username`. Every SEND is counted against its identity's rate limit: well inside the limit the answer
 * is known at once and the SEND is handled now; near it, the SEND (and the frames after it) wait for the limiter.
 * Settles once the SEND is answered, or undefined if it already has been (or is held, answered by its commit).
 */
export function acceptSend(deps: SendDeps, client: DeliveryClient, frame: SendFrame, username: string): Promise<void> | undefined {
  const verdict = deps.limiter.takeMessageNow(username);
  if (typeof verdict === 'number') return sendAllowed(deps, client, frame, verdict);
  return verdict.then((retryAfterMs) => sendAllowed(deps, client, frame, retryAfterMs));
}

function sendAllowed(deps: SendDeps, client: DeliveryClient, frame: SendFrame, retryAfterMs: number): Promise<void> | undefined {
  if (retryAfterMs > 0) {
    client.rateLimited(frame.requestId, 'too many messages; retry later', retryAfterMs);
    return undefined;
  }
  const { store, options, router, sendLimits } = deps;
  const now = options.now();
  const boxKey = client.receiptBoxKey;
  const box = frame.name === 'SEND_WITH_RECEIPT' && boxKey !== undefined ? boxOfKey(boxKey) : null;
  const accepted = checkSend(frame, store, sendLimits, now, box);
  if ('name' in accepted) {
    client.send(accepted);
    return undefined;
  }
  const recipient = router.get(accepted.to);
  if (recipient !== undefined && options.holdMs > 0 && holdAndPush(deps, client, frame.requestId, accepted, sendLimits.caps, recipient)) return undefined;
  return storeThenPush(deps, client, frame.requestId, accepted);
}

/** The OK (and the push) go out only once the envelope's transaction has committed. */
function storeThenPush(deps: SendDeps, client: DeliveryClient, requestId: number, accepted: AcceptedSend): Promise<void> {
  const { store, router, writes } = deps;
  const caps = deps.sendLimits.caps;
  return new Promise<void>((resolve, reject) => {
    writes.submit(
      () => store.queue.enqueue(accepted.to, accepted.item, caps),
      (result) => {
        client.send(sendReply(requestId, result));
        if (result === 'queued') router.get(accepted.to)?.deliver(deliverFrame(accepted.item));
        resolve();
      },
      reject,
    );
  });
}

/**
 * For an online recipient: push the envelope now and store it once its hold has passed, unless the recipient acks it
 * first (then it is never written). The sender's OK waits for that commit either way. False: not pushed (the
 * recipient is receiving its stored queue), so the caller stores it first as usual.
 */
function holdAndPush(deps: SendDeps, client: DeliveryClient, requestId: number, accepted: AcceptedSend, caps: QueueCaps, recipient: Peer): boolean {
  const { store, held } = deps;
  const { to, item } = accepted;
  const retried = held.find(to, item.messageId);
  if (retried !== undefined) {
    // A retry of an envelope still held: the same OK, when the first one gets it.
    held.retried(retried, client, requestId);
    return true;
  }
  const admitted = store.queue.admit(to, item.messageId, item.envelope.length, caps, held.pending(to));
  if (admitted !== 'queued') {
    client.send(sendReply(requestId, admitted));
    return true;
  }
  if (!recipient.deliver(deliverFrame(item))) return false;
  held.add(to, item, client, requestId);
  return true;
}
