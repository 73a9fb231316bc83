import { ParleyError } from '../../shared/errors.js';

/**
 * The outbox sends pending outgoing messages, one attempt per message at a time: a send from the UI and
 * a flush after reconnecting never transmit the same message twice concurrently.
 */
export class Outbox {
  readonly #inFlight = new Map<string, Promise<void>>();
  #flushing: Promise<void> | undefined;
  #again = false;

  constructor(
    private readonly pendingIds: () => string[],
    /** Transmit one message; throws when it stays pending (for example when the connection is gone). */
    private readonly transmit: (id: string) => Promise<void>,
  ) {}

  /** Send this message now, or join the attempt already under way. */
  send(id: string): Promise<void> {
    const existing = this.#inFlight.get(id);
    if (existing !== undefined) return existing;
    const attempt = this.transmit(id).finally(() => this.#inFlight.delete(id));
    this.#inFlight.set(id, attempt);
    return attempt;
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
    for (const id of this.pendingIds()) {
      try {
        await this.send(id);
      } catch (error) {
        // Still pending; the next flush (after reconnecting) tries again.
        if (error instanceof ParleyError && error.code === 'RELAY_UNREACHABLE') return;
      }
    }
  }

  /** Resolves when no send is in flight. */
  async idle(): Promise<void> {
    await this.#flushing;
    await Promise.allSettled([...this.#inFlight.values()]);
  }
}
