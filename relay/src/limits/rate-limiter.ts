import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import type { RateLimitName, RateLimits } from '../options.js';

/** Milliseconds until the action may be retried; 0 means it is allowed now (and was counted). */
export type RetryAfterMs = number;

/** One limit: its limiter, and what a refusal by it answers. */
interface Limit {
  readonly limiter: RateLimiterMemory;
  readonly refused: (refusal: unknown) => RetryAfterMs;
}

/**
 * What the limiter last answered for one key: the points it had left then, and how many actions have been counted
 * since whose answers have not come yet. A window that ends only adds points, so remaining - pending is a floor.
 * Answers come in the order the actions were counted, so the latest is the one kept.
 */
class Known {
  remaining = 0;
  pending = 0;
  /** Made once per key, not per action. */
  readonly answered = (answer: RateLimiterRes): void => {
    this.pending -= 1;
    this.remaining = answer.remainingPoints;
  };
  readonly refused = (): void => {
    this.pending -= 1;
    this.remaining = 0;
  };
}

/** Keys whose last answer is remembered, at most; past it they are all forgotten (and simply wait for the limiter). */
const MAX_KNOWN_KEYS = 10_000;

/** The relay's rate limits, in memory (one process): one limiter per action, keyed by IP or username. */
export class RelayRateLimiter {
  private readonly limits: Record<RateLimitName, Limit>;
  /** For the per-identity message limit, which every SEND asks: what the limiter last said about each identity. */
  private readonly knownMessages = new Map<string, Known>();

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

  /** Count one action for key; the wait before it may be retried if it is over budget. */
  take(name: RateLimitName, key: string): Promise<RetryAfterMs> {
    if (name === 'messages') return this.takeMessage(key);
    const { limiter, refused } = this.limits[name];
    return limiter.consume(key).then(allowed, refused);
  }

  /**
   * take('messages', key), answered at once (0) when the limiter's own last answer for this key proves the action is
   * allowed: every SEND asks, and waiting for the limiter's promise cost each one a turn of the microtask queue. The
   * action is counted by the limiter all the same; near the limit, or for a key not seen lately, this waits for it.
   */
  takeMessageNow(key: string): RetryAfterMs | Promise<RetryAfterMs> {
    const known = this.knownMessages.get(key);
    if (known === undefined || known.remaining - known.pending < 1) return this.takeMessage(key);
    known.pending += 1;
    // A refusal cannot come while remaining - pending was at least 1; if one did, the next action waits for the limiter.
    this.limits.messages.limiter.consume(key).then(known.answered, known.refused);
    return 0;
  }

  private takeMessage(key: string): Promise<RetryAfterMs> {
    const { limiter, refused } = this.limits.messages;
    let known = this.knownMessages.get(key);
    if (known === undefined) {
      // Bounded: forgetting every key only sends their next actions the slow way.
      if (this.knownMessages.size >= MAX_KNOWN_KEYS) this.knownMessages.clear();
      known = new Known();
      this.knownMessages.set(key, known);
    }
    known.pending += 1;
    const { answered, refused: noted } = known;
    return limiter.consume(key).then(
      (answer) => {
        answered(answer);
        return 0;
      },
      (refusal: unknown) => {
        noted();
        return refused(refusal);
      },
    );
  }
}

const allowed = (): RetryAfterMs => 0;
