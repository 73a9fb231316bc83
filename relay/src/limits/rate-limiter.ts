import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import type { RateLimitName, RateLimits } from '../options.js';

/** Milliseconds until the action may be retried; 0 means it is allowed now (and was counted). */
export type RetryAfterMs = number;

/** One limit: its limiter, and what a refusal by it answers. */
interface Limit {
  readonly limiter: RateLimiterMemory;
  readonly refused: (refusal: unknown) => RetryAfterMs;
}

/** The relay's rate limits, in memory (one process): one limiter per action, keyed by IP or username. */
export class RelayRateLimiter {
  private readonly limits: Record<RateLimitName, Limit>;

  constructor(
    limits: RateLimits,
    /** Called once per refused action (metrics). */
    onLimited: (name: RateLimitName) => void = () => undefined,
  ) {
    const make = (name: RateLimitName): Limit => ({
      limiter: new RateLimiterMemory({ keyPrefix: name, points: limits[name].points, duration: limits[name].durationMs / 1000 }),
      refused: (refusal) => {
        if (!(refusal instanceof RateLimiterRes)) throw refusal;
        onLimited(name);
        // At least 1: a zero would read as "allowed".
        return Math.max(1, Math.ceil(refusal.msBeforeNext));
      },
    });
    this.limits = { connections: make('connections'), messages: make('messages'), registrations: make('registrations'), totp: make('totp') };
  }

  /** Count one action for key; the wait before it may be retried if it is over budget. Every SEND asks: no closure or async function per call. */
  take(name: RateLimitName, key: string): Promise<RetryAfterMs> {
    const { limiter, refused } = this.limits[name];
    return limiter.consume(key).then(allowed, refused);
  }
}

const allowed = (): RetryAfterMs => 0;
