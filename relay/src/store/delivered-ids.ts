import type Database from 'better-sqlite3-multiple-ciphers';

interface Delivered {
  readonly recipient: string;
  readonly messageId: Uint8Array;
  readonly ackedAt: number;
}

/** Past this many ids waiting, the next add writes them all at once. */
const MAX_PENDING = 4096;

function keyOf(recipient: string, messageId: Uint8Array): string {
  return `${recipient}\u0000${Buffer.from(messageId.buffer, messageId.byteOffset, messageId.byteLength).toString('base64')}`;
}

/**
 * The ids of acked envelopes, remembered so a late retry of one is dropped as a duplicate. Each is one insert at a
 * random place in a B-tree, the dearest write a delivery makes, so ids gather in memory and are written in batches
 * (the relay flushes every second, at shutdown, and here past MAX_PENDING). A crash loses at most the last batch:
 * such a retry is then delivered again, and the client drops it by its message id.
 */
export class DeliveredIds {
  private pending = new Map<string, Delivered>();
  private readonly stored: Database.Statement<[string, Uint8Array], number>;
  private readonly remember: Database.Statement<[string, Uint8Array, number]>;
  private readonly writeAll: (batch: readonly Delivered[]) => void;

  constructor(db: Database.Database) {
    this.stored = db.prepare<[string, Uint8Array], number>('SELECT 1 FROM delivered WHERE recipient = ? AND message_id = ?').pluck();
    this.remember = db.prepare<[string, Uint8Array, number]>('INSERT OR REPLACE INTO delivered (recipient, message_id, acked_at) VALUES (?, ?, ?)');
    this.writeAll = db.transaction((batch: readonly Delivered[]) => {
      for (const item of batch) this.remember.run(item.recipient, item.messageId, item.ackedAt);
    });
  }

  add(recipient: string, messageId: Uint8Array, ackedAt: number): void {
    this.pending.set(keyOf(recipient, messageId), { recipient, messageId, ackedAt });
    if (this.pending.size >= MAX_PENDING) this.flush();
  }

  has(recipient: string, messageId: Uint8Array): boolean {
    return this.pending.has(keyOf(recipient, messageId)) || this.stored.get(recipient, messageId) !== undefined;
  }

  /** Write every waiting id, in key order (neighbours share pages); inside the caller's transaction if there is one. */
  flush(): void {
    if (this.pending.size === 0) return;
    const batch = [...this.pending.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, item]) => item);
    this.pending = new Map();
    this.writeAll(batch);
  }
}
