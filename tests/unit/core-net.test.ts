import { describe, expect, it, vi } from 'vitest';
import { ParleyError } from '../../app/shared/errors.js';
import { backoffDelay, DEFAULT_BACKOFF } from '../../app/core/net/backoff.js';
import { Outbox } from '../../app/core/net/outbox.js';
import { RelayReplyError, relayFailure } from '../../app/core/net/errors.js';

describe('reconnect backoff', () => {
  it('grows exponentially between half and all of each step, capped', () => {
    const options = { baseMs: 100, maxMs: 1_000 };
    expect(backoffDelay(0, options, () => 0)).toBe(50);
    expect(backoffDelay(0, options, () => 1)).toBe(100);
    expect(backoffDelay(3, options, () => 0)).toBe(400);
    expect(backoffDelay(3, options, () => 1)).toBe(800);
    expect(backoffDelay(10, options, () => 1)).toBe(1_000);
    expect(backoffDelay(10_000, DEFAULT_BACKOFF, () => 1)).toBe(DEFAULT_BACKOFF.maxMs);
  });
});

describe('outbox', () => {
  it('never runs two attempts for one message at once', async () => {
    let calls = 0;
    let release: () => void = () => undefined;
    const outbox = new Outbox(
      () => ['a'],
      () => {
        calls += 1;
        return new Promise<void>((resolve) => {
          release = resolve;
        });
      },
    );
    const first = outbox.send('a');
    const flush = outbox.flush();
    expect(calls).toBe(1);
    release();
    await Promise.all([first, flush]);
    expect(calls).toBe(1);
  });

  it('stops flushing when the relay is unreachable and skips past other failures', async () => {
    const tried: string[] = [];
    const outbox = new Outbox(
      () => ['a', 'b', 'c', 'd'],
      async (id) => {
        tried.push(id);
        if (id === 'b') throw new ParleyError('RELAY_PROTOCOL_ERROR', 'refused');
        if (id === 'c') throw new ParleyError('RELAY_UNREACHABLE', 'gone');
      },
    );
    await outbox.flush();
    expect(tried).toEqual(['a', 'b', 'c']);
    outbox.stop();
  });

  it('tries a refused message again after a backoff, with no reconnect, until it goes', async () => {
    let pending = ['a'];
    const attempts: string[] = [];
    let sent: () => void = () => undefined;
    const wentOut = new Promise<void>((resolve) => (sent = resolve));
    const outbox = new Outbox(
      () => pending,
      async (id) => {
        attempts.push(id);
        if (attempts.length < 3) throw new ParleyError('RELAY_STORAGE_FULL', 'the relay is out of storage');
        pending = [];
        sent();
      },
      { baseMs: 1, maxMs: 2 },
    );
    await expect(outbox.send('a')).rejects.toThrow('the relay is out of storage');
    await wentOut;
    expect(attempts).toEqual(['a', 'a', 'a']);
    outbox.stop();
  });

  it('leaves an unreachable relay to the next connection, keeps one retry however many refusals, and none once stopped', async () => {
    vi.useFakeTimers();
    try {
      const outbox = new Outbox(
        () => ['a', 'b'],
        async (id) => {
          throw new ParleyError(id === 'a' ? 'RELAY_UNREACHABLE' : 'RELAY_PROTOCOL_ERROR', 'no');
        },
      );
      await expect(outbox.send('a')).rejects.toThrow('no');
      expect(vi.getTimerCount()).toBe(0);
      await expect(outbox.send('b')).rejects.toThrow('no');
      await expect(outbox.send('b')).rejects.toThrow('no');
      expect(vi.getTimerCount()).toBe(1);
      outbox.stop();
      expect(vi.getTimerCount()).toBe(0);
      await expect(outbox.send('b')).rejects.toThrow('no');
      expect(vi.getTimerCount()).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('outbox flushing', () => {
  it('flushes again after a flush that found nothing to send', async () => {
    let pending: string[] = [];
    const sent: string[] = [];
    const outbox = new Outbox(
      () => pending,
      async (id) => {
        sent.push(id);
        pending = pending.filter((p) => p !== id);
      },
    );
    await outbox.flush();
    pending = ['late'];
    await outbox.flush();
    expect(sent).toEqual(['late']);
  });

  it('goes round again when a flush is requested while one runs', async () => {
    let pending = ['a'];
    const sent: string[] = [];
    let releaseFirst: () => void = () => undefined;
    const outbox = new Outbox(
      () => pending,
      (id) => {
        sent.push(id);
        pending = pending.filter((p) => p !== id);
        if (id !== 'a') return Promise.resolve();
        return new Promise<void>((resolve) => {
          releaseFirst = resolve;
        });
      },
    );
    const first = outbox.flush();
    pending = [...pending, 'b'];
    const second = outbox.flush();
    releaseFirst();
    await Promise.all([first, second]);
    expect(sent).toEqual(['a', 'b']);
  });
});

describe('relay refusals as app errors', () => {
  const refusal = (code: string): RelayReplyError => RelayReplyError.fromFrame({ code, message: 'refused', retryAfterMs: 60_000 });
  const codeOf = (error: ParleyError): string => error.code;

  it('maps the codes a caller expects, STORAGE_FULL whatever was asked, and anything else to RELAY_PROTOCOL_ERROR', () => {
    expect(codeOf(relayFailure(refusal('USER_NOT_FOUND'), { USER_NOT_FOUND: 'CONTACT_UNKNOWN_USER' }))).toBe('CONTACT_UNKNOWN_USER');
    expect(codeOf(relayFailure(refusal('STORAGE_FULL')))).toBe('RELAY_STORAGE_FULL');
    expect(codeOf(relayFailure(refusal('STORAGE_FULL'), { USER_NOT_FOUND: 'CONTACT_UNKNOWN_USER' }))).toBe('RELAY_STORAGE_FULL');
    expect(codeOf(relayFailure(refusal('QUEUE_FULL')))).toBe('RELAY_PROTOCOL_ERROR');
    expect(codeOf(relayFailure(refusal('SOMETHING_NEW')))).toBe('RELAY_PROTOCOL_ERROR');
  });
});
