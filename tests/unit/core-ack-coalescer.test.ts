import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ACK_COALESCE_MS, AckCoalescer } from '../../app/core/net/ack-coalescer.js';
import { MAX_ACKS_PER_FRAME, decodeMessageIds, type ClientFrame } from '../../relay/protocol/index.js';

const id = (n: number): Uint8Array => new Uint8Array(16).fill(n);

/** What each frame sent acknowledges, as the first byte of each id. */
function acked(frames: readonly ClientFrame[]): number[][] {
  return frames.map((frame) => {
    switch (frame.name) {
      case 'ACK':
        return [frame.messageId[0] ?? -1];
      case 'ACKS':
        return (decodeMessageIds(frame.messageIds) ?? []).map((messageId) => messageId[0] ?? -1);
      default:
        return [];
    }
  });
}

beforeEach(() => vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] }));
afterEach(() => vi.useRealTimers());

describe('ack coalescer', () => {
  it('sends the first ack after a quiet spell at once, and those within ACK_COALESCE_MS of it together, in order', () => {
    const sent: ClientFrame[] = [];
    const acks = new AckCoalescer((frame) => sent.push(frame));
    acks.add(id(1));
    expect(sent.map((frame) => frame.name)).toEqual(['ACK']);
    acks.add(id(2));
    vi.advanceTimersByTime(ACK_COALESCE_MS - 1);
    acks.add(id(3));
    expect(acked(sent)).toEqual([[1]]);
    vi.advanceTimersByTime(1);
    expect(sent.map((frame) => frame.name)).toEqual(['ACK', 'ACKS']);
    expect(acked(sent)).toEqual([[1], [2, 3]]);

    // Right after a send, a lone ack waits its turn; after a quiet spell it goes at once.
    acks.add(id(4));
    expect(acked(sent)).toHaveLength(2);
    vi.advanceTimersByTime(ACK_COALESCE_MS);
    expect(acked(sent)).toEqual([[1], [2, 3], [4]]);
    vi.advanceTimersByTime(ACK_COALESCE_MS);
    acks.add(id(5));
    expect(acked(sent)).toEqual([[1], [2, 3], [4], [5]]);
  });

  it('sends a full frame at once, without waiting', () => {
    const sent: ClientFrame[] = [];
    const acks = new AckCoalescer((frame) => sent.push(frame));
    acks.add(id(0));
    for (let n = 1; n <= MAX_ACKS_PER_FRAME + 1; n++) acks.add(id(n % 256));
    expect(acked(sent).map((ids) => ids.length)).toEqual([1, MAX_ACKS_PER_FRAME]);
    vi.advanceTimersByTime(ACK_COALESCE_MS);
    expect(acked(sent).map((ids) => ids.length)).toEqual([1, MAX_ACKS_PER_FRAME, 1]);
  });

  it('flush sends what waits now; drop forgets it, and nothing is sent later', () => {
    const sent: ClientFrame[] = [];
    const acks = new AckCoalescer((frame) => sent.push(frame));
    acks.add(id(1));
    acks.add(id(2));
    acks.flush();
    expect(acked(sent)).toEqual([[1], [2]]);
    acks.add(id(3));
    acks.drop();
    vi.advanceTimersByTime(10 * ACK_COALESCE_MS);
    acks.flush();
    expect(acked(sent)).toEqual([[1], [2]]);
  });
});
