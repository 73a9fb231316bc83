import { randomBytes } from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';
import type { ServerFrame } from '../../relay/protocol/index.js';
import { DRAIN_PAGE_SIZE, drainQueue, type DrainDeps, type DrainTarget } from '../../relay/src/delivery/queue-drain.js';
import type { NewEnvelope } from '../../relay/src/store/ports.js';
import { useDeliveryStore } from '../support/delivery.js';

const UNCAPPED = { count: 10_000, bytes: 100_000_000 };
const MAX_BUFFERED_BYTES = 1_000;

const delivery = useDeliveryStore(0);

const hex = (bytes: Uint8Array | undefined): string => Buffer.from(bytes ?? []).toString('hex');

function envelope(receiptBox: Uint8Array | null = null): NewEnvelope {
  return { messageId: new Uint8Array(randomBytes(16)), envelope: new Uint8Array(randomBytes(40)), receivedAt: Date.now(), expiresAt: null, receiptBox };
}

function queueFor(recipient: string, count: number): NewEnvelope[] {
  const items = Array.from({ length: count }, () => envelope());
  for (const item of items) expect(delivery.store.queue.enqueue(recipient, item, UNCAPPED)).toBe('queued');
  return items;
}

/** A connection that records what it was sent, and when the drain ended, in one list. */
class RecordingTarget implements DrainTarget {
  readonly events: string[] = [];
  readonly frames: ServerFrame[] = [];
  receiptBoxKey: string | undefined = undefined;
  closed = false;
  bufferedAmount = 0;
  /** Called for each wait on the socket, before it settles. */
  onWait: () => void = () => undefined;

  send(frame: ServerFrame): boolean {
    this.frames.push(frame);
    this.events.push(frame.name);
    return true;
  }

  flushed(): Promise<void> {
    this.events.push('wait');
    this.onWait();
    return Promise.resolve();
  }

  drained(): void {
    this.events.push('drained');
  }

  /** The ids of the envelopes sent, in hex (the store reads them back as Buffers). */
  delivered(): string[] {
    return this.frames.flatMap((frame) => (frame.name === 'DELIVER' ? [hex(frame.messageId)] : []));
  }
}

function deps(events: string[] = []): DrainDeps {
  return { store: delivery.store, writes: { flush: () => void events.push('flush') }, options: { maxBufferedBytes: MAX_BUFFERED_BYTES, now: () => Date.now() } };
}

describe('relay queue drain', () => {
  it('sends every queued envelope in arrival order, page after page, then DRAINED with their count', async () => {
    const items = queueFor('bob', 2 * DRAIN_PAGE_SIZE + 5);
    const target = new RecordingTarget();
    await drainQueue(deps(), target, 'bob');
    expect(target.delivered()).toEqual(items.map((item) => hex(item.messageId)));
    expect(target.frames.at(-1)).toEqual({ name: 'DRAINED', requestId: 0, count: items.length });
    expect(target.events.at(-1)).toBe('drained');
    // Sent, not removed: each envelope leaves the queue on its ACK.
    expect(delivery.store.queue.depth('bob')).toBe(items.length);
  });

  it('writes the ACKs still waiting for their commit before it reads the queue', async () => {
    queueFor('bob', 2);
    const events: string[] = [];
    const page = delivery.store.queue.page.bind(delivery.store.queue);
    vi.spyOn(delivery.store.queue, 'page').mockImplementation((...args) => {
      events.push('page');
      return page(...args);
    });
    await drainQueue(deps(events), new RecordingTarget(), 'bob');
    expect(events).toEqual(['flush', 'page']);
  });

  it('waits for the socket once half of maxBufferedBytes is pending, then reads again for envelopes that came meanwhile', async () => {
    const first = queueFor('bob', 3);
    const target = new RecordingTarget();
    let late: NewEnvelope[] = [];
    target.bufferedAmount = MAX_BUFFERED_BYTES / 2 + 1;
    target.onWait = () => {
      // Only the first wait: the socket then drains.
      target.bufferedAmount = 0;
      late = queueFor('bob', 1);
    };
    await drainQueue(deps(), target, 'bob');
    expect(target.events.slice(0, 2)).toEqual(['DELIVER', 'wait']);
    // A short page after a wait is not the end: the envelope queued during the wait follows.
    expect(target.delivered()).toEqual([...first, ...late].map((item) => hex(item.messageId)));
    expect(target.frames.at(-1)).toEqual({ name: 'DRAINED', requestId: 0, count: 4 });
  });

  it('stops at a closed connection, leaving the rest queued, and still ends the hold on pushes', async () => {
    const items = queueFor('bob', 5);
    const target = new RecordingTarget();
    const send = target.send.bind(target);
    target.send = (frame) => {
      const sent = send(frame);
      if (target.delivered().length === 2) target.closed = true;
      return sent;
    };
    await drainQueue(deps(), target, 'bob');
    expect(target.delivered()).toEqual(items.slice(0, 2).map((item) => hex(item.messageId)));
    expect(target.events).toEqual(['DELIVER', 'DELIVER', 'drained']);
    expect(delivery.store.queue.depth('bob')).toBe(5);
  });

  it('sends the receipts that waited for their sender, oldest first, before DRAINED', async () => {
    const box = new Uint8Array(randomBytes(16));
    const asked = Array.from({ length: 3 }, () => envelope(box));
    for (const item of asked) {
      delivery.store.queue.enqueue('bob', item, UNCAPPED);
      expect(delivery.store.queue.ack('bob', item.messageId, 1_000)).toBeDefined();
    }
    const mine = queueFor('alice', 1);
    const target = new RecordingTarget();
    target.receiptBoxKey = Buffer.from(box).toString('hex');
    await drainQueue(deps(), target, 'alice');
    expect(target.events).toEqual(['DELIVER', 'RECEIPT', 'RECEIPT', 'RECEIPT', 'DRAINED', 'drained']);
    expect(target.delivered()).toEqual([hex(mine[0]?.messageId)]);
    const receipts = target.frames.flatMap((frame) => (frame.name === 'RECEIPT' ? [[hex(frame.messageId), frame.ackedAt]] : []));
    expect(receipts).toEqual(asked.map((item) => [hex(item.messageId), 1_000]));
  });

  it('tells a user whose one-time prekeys have run out, after DRAINED', async () => {
    delivery.store.prekeys.setSignedPrekey('bob', { keyId: 1, publicKey: new Uint8Array(32), signature: new Uint8Array(64) }, 0);
    const target = new RecordingTarget();
    await drainQueue(deps(), target, 'bob');
    expect(target.frames).toEqual([
      { name: 'DRAINED', requestId: 0, count: 0 },
      { name: 'PREKEYS_LOW', requestId: 0, oneTimeCount: 0, pqOneTimeCount: 0 },
    ]);
  });

  it('ends the hold on pushes in the same turn as its last read of the queue', async () => {
    queueFor('bob', 2);
    const target = new RecordingTarget();
    const page = delivery.store.queue.page.bind(delivery.store.queue);
    vi.spyOn(delivery.store.queue, 'page').mockImplementation((...args) => {
      // Anything that runs after this read (a commit's push, say) must find the hold already ended.
      queueMicrotask(() => target.events.push('next microtask'));
      return page(...args);
    });
    await drainQueue(deps(), target, 'bob');
    expect(target.events.slice(-2)).toEqual(['drained', 'next microtask']);
  });

  it('ends the hold on pushes when reading the queue fails, and rejects', async () => {
    vi.spyOn(delivery.store.queue, 'page').mockImplementation(() => {
      throw new Error('disk I/O error');
    });
    const target = new RecordingTarget();
    await expect(drainQueue(deps(), target, 'bob')).rejects.toThrow('disk I/O error');
    expect(target.events).toEqual(['drained']);
  });
});
