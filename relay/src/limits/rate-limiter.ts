import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import type { RateLimitName, RateLimits } from '../options.js';

/** Milliseconds until the action may be retried; 0 means it is allowed now (and was counted). */
export type RetryAfterMs = number;

/** The relay's rate limits, in memory (one process): one limiter per action, keyed by IP or username. */
export class RelayRateLimiter {
  private readonly limiters: Record<RateLimitName, RateLimiterMemory>;

  constructor(
    limits: RateLimits,
    /** Called once per refused action (metrics). */
    private readonly onLimited: (name: RateLimitName) => void = () => undefined,
  ) {
    const make = (name: RateLimitName): RateLimiterMemory =>
      new RateLimiterMemory({ keyPrefix: name, points: limits[name].points, duration: limits[name].durationMs / 1000 });
    this.limiters = { connections: make('connections'), messages: make('messages'), registrations: make('registrations'), totp: make('totp') };
  }

  /** Count one action for key; the wait before it may be retried if it is over budget. */
  async take(name: RateLimitName, key: string): Promise<RetryAfterMs> {
    try {
      await this.limiters[name].consume(key);
      return 0;
    } catch (refusal) {
      if (!(refusal instanceof RateLimiterRes)) throw refusal;
      this.onLimited(name);
      // At least 1: a zero would read as "allowed".
      return Math.max(1, Math.ceil(refusal.msBeforeNext));
    }
  }
}
