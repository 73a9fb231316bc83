import { afterEach, describe, expect, it, vi } from 'vitest';
import { IdleTimer } from '../../app/core/services/idle-timer.js';

afterEach(() => {
  vi.useRealTimers();
});

describe('idle timer', () => {
  it('fires after the idle minutes, a touch starts the wait again, 0 means never', () => {
    vi.useFakeTimers();
    const onIdle = vi.fn();
    const timer = new IdleTimer(onIdle);
    timer.set(2);
    vi.advanceTimersByTime(119_000);
    timer.touch();
    vi.advanceTimersByTime(119_000);
    expect(onIdle).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1_000);
    expect(onIdle).toHaveBeenCalledOnce();
    timer.set(0);
    vi.advanceTimersByTime(10 * 60_000);
    expect(onIdle).toHaveBeenCalledOnce();
  });
});
