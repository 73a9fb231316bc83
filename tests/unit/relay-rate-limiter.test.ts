import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { COUNT_BATCH_MS, MAX_KNOWN_KEYS, RelayRateLimiter, type RetryAfterMs } from '../../relay/src/limits/rate-limiter.js';
import { DEFAULT_RATE_LIMITS } from '../../relay/src/options.js';

/** A limiter allowing `points` messages per identity per minute; counts refusals by limit name. */
function limiter(points: number): { limits: RelayRateLimiter; refusals: string[] } {
  const refusals: string[] = [];
  const limits = new RelayRateLimiter({ ...DEFAULT_RATE_LIMITS, messages: { points, durationMs: 60_000 } }, (name) => refusals.push(name));
  return { limits, refusals };
}

describe('relay rate limiter: messages answered at once when provably allowed', () => {
  it('answers well inside the limit at once, and still refuses past it, with a retry-after', async () => {
    const { limits, refusals } = limiter(5);
    const answers: Array<{ now: boolean; retryAfterMs: RetryAfterMs }> = [];
    for (let i = 0; i < 8; i++) {
      const verdict = limits.takeMessageNow('alice');
      answers.push(typeof verdict === 'number' ? { now: true, retryAfterMs: verdict } : { now: false, retryAfterMs: await verdict });
    }
    expect(answers.map((a) => a.retryAfterMs === 0)).toEqual([true, true, true, true, true, false, false, false]);
    // The first waits (nothing is known yet); its answer (4 points left) proves the next four allowed, each counting
    // against that floor; with none left, every refusal waits for the limiter.
    expect(answers.map((a) => a.now)).toEqual([false, true, true, true, true, false, false, false]);
    expect(answers.slice(5).every((a) => a.retryAfterMs > 0 && a.retryAfterMs <= 60_000)).toBe(true);
    expect(refusals).toEqual(['messages', 'messages', 'messages']);
  });

  it('answers at once for each of 15,000 identities sending in turn, once each has been answered by the limiter', async () => {
    const { limits } = limiter(100);
    const senders = Array.from({ length: 15_000 }, (_, i) => `user${i}`);
    for (const sender of senders) expect(await limits.takeMessageNow(sender)).toBe(0);
    const waited = senders.filter((sender) => typeof limits.takeMessageNow(sender) !== 'number');
    expect(waited).toEqual([]);
  });

  it('keeps each identity to its own budget', async () => {
    const { limits } = limiter(2);
    const take = async (key: string): Promise<RetryAfterMs> => await limits.takeMessageNow(key);
    expect([await take('alice'), await take('alice'), await take('bob')]).toEqual([0, 0, 0]);
    expect(await take('alice')).toBeGreaterThan(0);
    expect(await take('bob')).toBe(0);
  });

  it('never allows more than the limit, however actions, answers and batched counts interleave', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 8 }),
        fc.array(fc.constantFrom('act', 'act-then-answers', 'count'), { minLength: 1, maxLength: 40 }),
        async (points, steps) => {
          const { limits } = limiter(points);
          const verdicts: Array<RetryAfterMs | Promise<RetryAfterMs>> = [];
          // act: one SEND; then-answers: every answer so far arrives before the next step; count: the batch timer fires.
          for (const step of steps) {
            if (step === 'count') limits.countAll();
            else verdicts.push(limits.takeMessageNow('alice'));
            if (step === 'act-then-answers') await Promise.all(verdicts);
          }
          const allowed = (await Promise.all(verdicts)).filter((retryAfterMs) => retryAfterMs === 0).length;
          expect(allowed).toBe(Math.min(points, verdicts.length));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('counts the SENDs it allowed at once before it forgets the identities it knows, once they pass MAX_KNOWN_KEYS', async () => {
    const { limits } = limiter(3);
    expect(await limits.takeMessageNow('alice')).toBe(0);
    // Allowed at once, and not yet counted by the limiter.
    expect(limits.takeMessageNow('alice')).toBe(0);
    // In the same turn, before the batch's timer can run, enough other identities to fill what it knows.
    await Promise.all(Array.from({ length: MAX_KNOWN_KEYS }, (_, i) => limits.takeMessageNow(`user${i}`)));
    // alice has used two of her three.
    expect([await limits.takeMessageNow('alice'), await limits.takeMessageNow('alice')].map((retryAfterMs) => retryAfterMs === 0)).toEqual([true, false]);
  });

  it('counts the SENDs it allowed at once within the batch delay, in the window they were allowed in', async () => {
    vi.useFakeTimers();
    try {
      const { limits } = limiter(10);
      expect(await limits.takeMessageNow('alice')).toBe(0);
      for (let i = 0; i < 4; i++) expect(limits.takeMessageNow('alice')).toBe(0);
      await vi.advanceTimersByTimeAsync(COUNT_BATCH_MS);
      // The minute ends. Had the four reached the limiter only now, the next minute would allow 6, not 10.
      await vi.advanceTimersByTimeAsync(60_000);
      const next: RetryAfterMs[] = [];
      for (let i = 0; i < 12; i++) next.push(await limits.takeMessageNow('alice'));
      expect(next.filter((retryAfterMs) => retryAfterMs === 0)).toHaveLength(10);
    } finally {
      vi.useRealTimers();
    }
  });
});
