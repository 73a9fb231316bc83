import type { ServerFrame } from '../../protocol/index.js';
import { lowStockNotice } from '../handlers/prekeys.js';
import { boxOfKey } from '../receipts.js';
import type { ResolvedRelayOptions } from '../options.js';
import { deliverFrame } from '../replies.js';
import type { GroupCommit } from '../store/group-commit.js';
import type { RelayStore } from '../store/ports.js';

/** Queued envelopes are read in pages so a long queue never sits in memory at once. */
export const DRAIN_PAGE_SIZE = 256;

/** What draining a queue needs of the relay (the connections' deps object has it). */
export interface DrainDeps {
  readonly store: Pick<RelayStore, 'queue' | 'receipts' | 'prekeys'>;
  /** Its ACKs still waiting to be written are written first. */
  readonly writes: Pick<GroupCommit, 'flush'>;
  readonly options: Pick<ResolvedRelayOptions, 'maxBufferedBytes' | 'now'>;
}

/** What draining a queue needs of the connection it drains to. */
export interface DrainTarget {
  /** This user's receipt box as ReceiptBoxes keys it (hex). */
  readonly receiptBoxKey: string | undefined;
  /** The connection has closed, or is closing: the rest stays queued for the next one. */
  readonly closed: boolean;
  /** What the socket holds that the kernel has not taken yet. */
  readonly bufferedAmount: number;
  send(frame: ServerFrame): boolean;
  /** Settles once everything sent so far has been handed to the kernel (or the socket closed). */
  flushed(): Promise<void>;
  /** The drain has ended, however it ended, in the same turn as its last read of the queue: pushes may go out again. */
  drained(): void;
}

/**
 * Every envelope waiting for `username`, in arrival order, then the receipts that waited for it, then DRAINED (and a
 * low prekey stock's notice). The target holds pushes back until drained() (this reads them from the database), and
 * this waits for the socket whenever half of maxBufferedBytes is pending.
 */
export async function drainQueue(deps: DrainDeps, target: DrainTarget, username: string): Promise<void> {
  const { store, options } = deps;
  let count = 0;
  let afterSeq = 0;
  const halfBuffer = options.maxBufferedBytes / 2;
  // ACKs still waiting for their commit must be applied before the queue is read, or acked envelopes would come back.
  deps.writes.flush();
  try {
    for (;;) {
      const page = store.queue.page(username, afterSeq, DRAIN_PAGE_SIZE, options.now());
      let waited = false;
      for (const item of page) {
        if (target.closed) return;
        target.send(deliverFrame(item));
        if (target.bufferedAmount > halfBuffer) {
          waited = true;
          await target.flushed();
        }
      }
      count += page.length;
      const last = page.at(-1);
      // After a wait, envelopes may have arrived behind this page: read once more.
      if (last === undefined || (page.length < DRAIN_PAGE_SIZE && !waited)) break;
      afterSeq = last.seq;
    }
    flushReceipts(deps, target);
    target.send({ name: 'DRAINED', requestId: 0, count });
    const notice = lowStockNotice(store.prekeys.counts(username));
    if (notice !== undefined) target.send(notice);
  } finally {
    target.drained();
  }
}

/** Receipts that waited for this (then offline) sender, oldest first; each stays stored until the sender ACKs it. */
function flushReceipts(deps: DrainDeps, target: DrainTarget): void {
  const boxKey = target.receiptBoxKey;
  if (boxKey === undefined) return;
  const box = boxOfKey(boxKey);
  let afterSeq = 0;
  for (;;) {
    const page = deps.store.receipts.page(box, afterSeq, DRAIN_PAGE_SIZE);
    for (const receipt of page) target.send({ name: 'RECEIPT', requestId: 0, messageId: receipt.messageId, ackedAt: receipt.ackedAt });
    const last = page.at(-1);
    if (last === undefined || page.length < DRAIN_PAGE_SIZE) return;
    afterSeq = last.seq;
  }
}
