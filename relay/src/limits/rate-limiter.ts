import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import type { RateLimitName, RateLimits } from '../options.js';

/** Milliseconds until the action may be retried; 0 means it is allowed now (and is counted against the limit). */
export type RetryAfterMs = number;

/** One limit: its limiter, and what a refusal by it answers. */
interface Limit {
  readonly limiter: RateLimiterMemory;
  readonly refused: (refusal: unknown) => RetryAfterMs;
}

/**
 * What the limiter last answered for one key: the points it had left then, the points counted since whose answers
 * have not come yet, and the points allowed here that it has not been told of yet. A window that ends only adds
 * points, so remaining - pending - uncounted is a floor. Answers come in the order the points were counted, so the
 * latest is the one kept.
 */
class Known {
  remaining = 0;
  pending = 0;
  uncounted = 0;

  get floor(): number {
    return this.remaining - this.pending - this.uncounted;
  }

  answered(points: number, answer: RateLimiterRes): void {
    this.pending -= points;
    this.remaining = answer.remainingPoints;
  }

  refused(points: number): void {
    this.pending -= points;
    this.remaining = 0;
  }
}

/**
 * Keys whose last answer is remembered, at most; past it they are all forgotten (and simply wait for the limiter).
 * About 84 bytes a key, so 8 MB when full. It must exceed the identities that send within a while: at 10,000,
 * 15,000 identities sending in turn cleared it before any came round again, and every SEND waited for the limiter.
 */
export const MAX_KNOWN_KEYS = 100_000;

/**
 * How late SENDs allowed at once reach the limiter, counted together: one call per identity per this many ms, not one
 * per SEND (each made a promise and its answer). Points counted late fall in the limiter's window then, which can
 * only make that window stricter; the floor they were allowed against counted them at once.
 */
export const COUNT_BATCH_MS = 50;

/** The relay's rate limits, in memory (one process): one limiter per action, keyed by IP or username. */
export class RelayRateLimiter {
  private readonly limits: Record<RateLimitName, Limit>;
  /** For the per-identity message limit, which every SEND asks: what the limiter last said about each identity. */
  private readonly knownMessages = new Map<string, Known>();
  /** Keys with points allowed at once and not yet counted by the limiter. */
  private uncounted: string[] = [];
  private countTimer: NodeJS.Timeout | undefined;

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
    this.limits = {
      connections: make('connections'),
      messages: make('messages'),
      registrations: make('registrations'),
      totp: make('totp'),
      lookups: make('lookups'),
      prekeyFetches: make('prekeyFetches'),
      requests: make('requests'),
      http: make('http'),
    };
  }

  /** Count one action for key; the wait before it may be retried if it is over budget. */
  take(name: RateLimitName, key: string): Promise<RetryAfterMs> {
    if (name === 'messages') return this.takeMessage(key);
    const { limiter, refused } = this.limits[name];
    return limiter.consume(key).then(allowed, refused);
  }

  /**
   * take('messages', key), answered at once (0) when the limiter's own last answer for this key proves the action is
   * allowed: every SEND asks, and waiting for the limiter's promise cost each one a turn of the microtask queue. Such
   * actions reach the limiter together, within COUNT_BATCH_MS; near the limit, or for a key not seen lately, this
   * waits for it.
   */
  takeMessageNow(key: string): RetryAfterMs | Promise<RetryAfterMs> {
    const known = this.knownMessages.get(key);
    if (known === undefined || known.floor < 1) return this.takeMessage(key);
    if (known.uncounted === 0) this.uncounted.push(key);
    known.uncounted += 1;
    this.countTimer ??= setTimeout(this.countAll, COUNT_BATCH_MS).unref();
    return 0;
  }

  /** Tell the limiter of every action allowed at once since the last call (also on a timer). */
  readonly countAll = (): void => {
    clearTimeout(this.countTimer);
    this.countTimer = undefined;
    const keys = this.uncounted;
    this.uncounted = [];
    for (const key of keys) {
      const known = this.knownMessages.get(key);
      if (known !== undefined) this.count(key, known);
    }
  };

  /** Hand the limiter this key's uncounted points in one call. */
  private count(key: string, known: Known): void {
    const points = known.uncounted;
    if (points === 0) return;
    known.uncounted = 0;
    known.pending += points;
    // A refusal cannot come while the floor was at least 1 for each point; if one did, the next action waits.
    this.limits.messages.limiter.consume(key, points).then(
      (answer) => known.answered(points, answer),
      () => known.refused(points),
    );
  }

  private takeMessage(key: string): Promise<RetryAfterMs> {
    const { limiter, refused } = this.limits.messages;
    let known = this.knownMessages.get(key);
    if (known === undefined) {
      // Bounded: forgetting every key only sends their next actions the slow way (their uncounted points go first).
      if (this.knownMessages.size >= MAX_KNOWN_KEYS) this.forgetAll();
      known = new Known();
      this.knownMessages.set(key, known);
    }
    // The limiter must have every point allowed so far before it answers this one.
    this.count(key, known);
    known.pending += 1;
    const noted = known;
    return limiter.consume(key).then(
      (answer) => {
        noted.answered(1, answer);
        return 0;
      },
      (refusal: unknown) => {
        noted.refused(1);
        return refused(refusal);
      },
    );
  }

  private forgetAll(): void {
    this.countAll();
    this.knownMessages.clear();
  }
}

const allowed = (): RetryAfterMs => 0;
