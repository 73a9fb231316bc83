import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { HEARTBEAT_STEP_MS, startHeartbeat, type Beating } from '../../relay/src/heartbeat.js';

/** A connection that records the (fake) times of its heartbeats. */
function connection(id: number): Beating & { readonly beats: number[] } {
  const beats: number[] = [];
  return { id, beats, heartbeat: () => void beats.push(Date.now()) };
}

/** The time between each beat and the next. */
const gaps = (beats: readonly number[]): number[] => beats.slice(1).map((at, i) => at - (beats[i] ?? 0));

beforeEach(() => {
  vi.useFakeTimers({ now: 0 });
});

afterEach(() => {
  vi.useRealTimers();
});

describe('relay heartbeat', () => {
  it('beats each connection once per interval, always one interval apart, a slice of them per step', () => {
    const intervalMs = 30_000;
    const steps = intervalMs / HEARTBEAT_STEP_MS;
    const connections = new Set(Array.from({ length: 1_000 }, (_, id) => connection(id)));
    let inStep = 0;
    let largestStep = 0;
    for (const c of connections) {
      const beat = c.heartbeat;
      c.heartbeat = () => {
        inStep += 1;
        beat();
      };
    }
    const stop = startHeartbeat(connections, intervalMs);
    for (let step = 0; step < 3 * steps; step++) {
      inStep = 0;
      vi.advanceTimersByTime(HEARTBEAT_STEP_MS);
      largestStep = Math.max(largestStep, inStep);
    }
    stop();
    for (const c of connections) {
      expect(c.beats).toHaveLength(3);
      expect(gaps(c.beats)).toEqual([intervalMs, intervalMs]);
    }
    // 1,000 connections over 300 steps: never more than 4 at once, where all at once was 1,000.
    expect(largestStep).toBe(Math.ceil(connections.size / steps));
  });

  it('beats a connection that joins within one interval, and one that left no more', () => {
    const intervalMs = 10_000;
    const early = connection(1);
    const connections = new Set([early]);
    const stop = startHeartbeat(connections, intervalMs);
    vi.advanceTimersByTime(intervalMs / 2);
    const late = connection(2);
    connections.add(late);
    connections.delete(early);
    vi.advanceTimersByTime(intervalMs * 2);
    stop();
    expect(early.beats).toHaveLength(1);
    expect(late.beats).toHaveLength(2);
    expect(late.beats[0] ?? Number.POSITIVE_INFINITY).toBeLessThanOrEqual(intervalMs / 2 + intervalMs);
  });

  it('beats every connection at once each interval when the interval is shorter than a step', () => {
    const connections = new Set([connection(1), connection(2), connection(3)]);
    const stop = startHeartbeat(connections, 50);
    vi.advanceTimersByTime(150);
    stop();
    for (const c of connections) expect(c.beats).toEqual([50, 100, 150]);
  });

  it('stops', () => {
    const c = connection(7);
    const stop = startHeartbeat([c], 1_000);
    vi.advanceTimersByTime(1_000);
    stop();
    vi.advanceTimersByTime(10_000);
    expect(c.beats).toHaveLength(1);
  });
});
