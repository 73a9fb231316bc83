import { MAX_ACKS_PER_FRAME, encodeMessageIds, type ClientFrame } from '../../../relay/protocol/index.js';

/**
 * The least time between two acknowledgement frames. Inside the relay's hold (25 ms by default) with 10 ms to spare for
 * a busy client's read and the relay's, so an envelope pushed to an online client is still acked before the relay
 * would write it to its queue. A client getting a message every few ms (a relay busy with a hundred conversations)
 * sends a third as many frames as with 5 ms, which cost the relay about 5% less CPU per message.
 */
export const ACK_COALESCE_MS = 15;

/**
 * Sends acknowledgements at most once every few milliseconds: the first after a quiet spell at once, as ACK, and
 * those that come within delayMs of a send together when that time is up, as ACKS. A burst (a queue drained on
 * reconnect, a busy group) then costs the relay one frame per delayMs or per MAX_ACKS_PER_FRAME ids, not one each,
 * and a lone message is acknowledged without delay. An ack still waiting when the connection goes is simply lost:
 * the relay delivers the envelope again.
 */
export class AckCoalescer {
  #ids: Uint8Array[] = [];
  #timer: NodeJS.Timeout | undefined;
  /** performance.now() of the last send (monotonic: a clock set back must not hold acks up). */
  #sentAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly send: (frame: ClientFrame) => void,
    private readonly delayMs = ACK_COALESCE_MS,
  ) {}

  add(messageId: Uint8Array): void {
    this.#ids.push(messageId);
    if (this.#timer !== undefined && this.#ids.length < MAX_ACKS_PER_FRAME) return;
    const wait = this.#sentAt + this.delayMs - performance.now();
    if (wait <= 0 || this.#ids.length >= MAX_ACKS_PER_FRAME) this.flush();
    else this.#timer = setTimeout(() => this.flush(), wait);
  }

  /** Send what is waiting, now. */
  flush(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const ids = this.#ids;
    if (ids.length === 0) return;
    this.#ids = [];
    this.#sentAt = performance.now();
    const [only] = ids;
    if (ids.length === 1 && only !== undefined) this.send({ name: 'ACK', requestId: 0, messageId: only });
    else this.send({ name: 'ACKS', requestId: 0, messageIds: encodeMessageIds(ids) });
  }

  /** Forget what is waiting (the connection is gone). */
  drop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#ids = [];
  }
}
