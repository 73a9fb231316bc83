/** Reconnect delays: exponential growth with jitter so that many clients do not retry in lockstep. */
export interface BackoffOptions {
  /** Delay before the first retry, in ms (default 250). */
  baseMs: number;
  /** Largest delay, in ms (default 10 000). */
  maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 250, maxMs: 10_000 };

/** "Equal jitter": half the exponential step fixed, half random, capped at maxMs. */
export function backoffDelay(attempt: number, options: BackoffOptions = DEFAULT_BACKOFF, random: () => number = Math.random): number {
  const step = Math.min(options.maxMs, options.baseMs * 2 ** Math.min(attempt, 30));
  return Math.round(step / 2 + random() * (step / 2));
}
