import { describeError, type Log } from './log.js';
import type { RelayMetrics } from './metrics.js';
import type { ResolvedRelayOptions } from './options.js';
import type { GroupCommit } from './store/group-commit.js';
import type { RelayStore } from './store/ports.js';
import type { StorageAlarm } from './store/storage-full.js';

/** How often the delivered ids remembered in memory are written: often enough that each batch is a short write. */
const DELIVERED_FLUSH_MS = 100;

export interface UpkeepDeps {
  readonly store: RelayStore;
  readonly writes: GroupCommit;
  readonly options: Pick<ResolvedRelayOptions, 'now' | 'deliveredMemoryMs' | 'maxQueueAgeMs' | 'purgeIntervalMs'>;
  readonly metrics: Pick<RelayMetrics, 'purged'>;
  readonly log: Log;
  readonly storage: StorageAlarm;
}

/** The relay's writes on a clock of their own, rather than a client's request. */
export interface Upkeep {
  /**
   * Drop envelopes past the queue's age cap or their own ttl, expired blobs and delivered ids past their memory, with
   * the next commit (it also runs every purgeIntervalMs); resolves with how many envelopes and blobs went, once durable.
   */
  purgeExpired(): Promise<number>;
  /** No more runs on the clock (the ids still in memory are the caller's to write as it closes the store). */
  stop(): void;
}

/** Starts the purge of what expired (every purgeIntervalMs) and the appends of delivered ids (every DELIVERED_FLUSH_MS). */
export function startUpkeep({ store, writes, options, metrics, log, storage }: UpkeepDeps): Upkeep {
  // A unit of the group commit, like every steady-state write: its flush runs off the event loop.
  const purgeExpired = (): Promise<number> =>
    new Promise<number>((resolve, reject) => {
      writes.submit(
        () => {
          const now = options.now();
          store.queue.forgetDeliveredBefore(now - options.deliveredMemoryMs);
          return store.queue.purge(now - options.maxQueueAgeMs, now) + store.blobs.purge(now);
        },
        (purged) => {
          if (purged > 0) {
            metrics.purged.inc(purged);
            log('queue_purged', { count: purged });
          }
          resolve(purged);
        },
        reject,
      );
    });
  const purger = setInterval(() => {
    purgeExpired().catch((error: unknown) => {
      if (!storage.refused(error)) log('purge_failed', describeError(error));
    });
  }, options.purgeIntervalMs);

  // Delivered ids gather in memory and are appended every DELIVERED_FLUSH_MS, in a transaction of their own that asks
  // for no flush of the disk: nobody waits on them, the next flush or checkpoint covers them, and a power cut that loses
  // them costs what a crash costs, a retry delivered again and dropped by its recipient. So a chat whose messages are all
  // acked in time flushes nothing.
  const deliveredWriter = setInterval(() => {
    try {
      store.transaction(() => store.queue.flushDelivered());
    } catch (error) {
      // Not lost: the ids wait in memory for the next append.
      if (!storage.refused(error)) log('internal_error', describeError(error));
    }
  }, DELIVERED_FLUSH_MS);

  return {
    purgeExpired,
    stop: () => {
      clearInterval(purger);
      clearInterval(deliveredWriter);
    },
  };
}
