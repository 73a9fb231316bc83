import { ParleyError } from '../../shared/errors.js';
import { backoffDelay, type BackoffOptions } from './backoff.js';

/** After a refused attempt the outbox tries its pending messages again, this long after (growing while refusals go on). */
export const OUTBOX_RETRY: BackoffOptions = { baseMs: 5_000, maxMs: 300_000 };

/** Unreachable: the next connection flushes the outbox anyway. */
const retriesOnReconnect = (error: unknown): boolean => error instanceof ParleyError && error.code === 'RELAY_UNREACHABLE';

/**
 * The outbox sends pending outgoing messages, one attempt per message at a time: a send from the UI and
 * a flush after reconnecting never transmit the same message twice concurrently. A message the relay
 * refused (out of storage, say) is tried again after a backoff, without waiting for a reconnect.
 */
export class Outbox {
  readonly #inFlight = new Map<string, Promise<void>>();
  #flushing: Promise<void> | undefined;
  #again = false;
  #retryTimer: NodeJS.Timeout | undefined;
  /** Refused flushes in a row: how long the next retry waits. */
  #retries = 0;
  #stopped = false;

  constructor(
    private readonly pendingIds: () => string[],
    /** Transmit one message; throws when it stays pending (for example when the connection is gone). */
    private readonly transmit: (id: string) => Promise<void>,
    private readonly retry: BackoffOptions = OUTBOX_RETRY,
  ) {}

  /** Send this message now, or join the attempt already under way. */
  send(id: string): Promise<void> {
    const existing = this.#inFlight.get(id);
    if (existing !== undefined) return existing;
    const attempt = this.transmit(id).finally(() => this.#inFlight.delete(id));
    this.#inFlight.set(id, attempt);
    attempt.catch((error: unknown) => {
      if (!retriesOnReconnect(error)) this.#retryLater();
    });
    return attempt;
  }

  /** No more retries (the profile is closing); an attempt under way still finishes. */
  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
  }

  /**
   * Send every pending message, oldest first; stops when the relay is unreachable and leaves the rest pending.
   * A flush requested while one runs makes that one go round again, so no request is lost.
   */
  flush(): Promise<void> {
    if (this.#flushing !== undefined) {
      this.#again = true;
      return this.#flushing;
    }
    const run = this.#flushRounds();
    this.#flushing = run;
    void run.finally(() => {
      if (this.#flushing === run) this.#flushing = undefined;
    });
    return run;
  }

  async #flushRounds(): Promise<void> {
    do {
      this.#again = false;
      await this.#flushOnce();
    } while (this.#again);
  }

  async #flushOnce(): Promise<void> {
    if (this.#stopped) return;
    let refused = false;
    for (const id of this.pendingIds()) {
      try {
        await this.send(id);
      } catch (error) {
        // Still pending; the next flush (after reconnecting) tries again.
        if (retriesOnReconnect(error)) return;
        refused = true;
      }
    }
    if (!refused) this.#retries = 0;
  }

  /** One flush later, however many attempts were refused meanwhile. */
  #retryLater(): void {
    if (this.#stopped || this.#retryTimer !== undefined) return;
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      void this.flush();
    }, backoffDelay(this.#retries++, this.retry));
    this.#retryTimer.unref();
  }

  /** Resolves when no send is in flight. */
  async idle(): Promise<void> {
    await this.#flushing;
    await Promise.allSettled([...this.#inFlight.values()]);
  }
}
