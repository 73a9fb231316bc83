import type Database from 'better-sqlite3-multiple-ciphers';
import type { ForeignCommits } from './foreign-commits.js';

export interface Usage {
  count: number;
  bytes: number;
}

/**
 * Each recipient's queue usage (count, bytes), kept in memory in step with this connection's writes, so a SEND's cap
 * check does not scan the recipient's queue. A recipient's usage is read from the queue on first use, and everything
 * is forgotten (read again) when a write may not have gone as counted (a rolled-back transaction, a bulk purge) or
 * another connection, such as the admin tool, has committed since.
 */
export class QueueUsage {
  private readonly known = new Map<string, Usage>();
  private readonly scan: Database.Statement<[string], Usage>;

  constructor(
    db: Database.Database,
    private readonly foreign: ForeignCommits,
  ) {
    this.scan = db.prepare<[string], Usage>('SELECT count(*) AS count, coalesce(sum(length(envelope)), 0) AS bytes FROM queue WHERE recipient = ?');
    foreign.onChange(() => this.known.clear());
  }

  get(recipient: string): Usage {
    this.foreign.check();
    let usage = this.known.get(recipient);
    if (usage === undefined) {
      usage = this.scan.get(recipient) ?? { count: 0, bytes: 0 };
      this.known.set(recipient, usage);
    }
    return usage;
  }

  /** An envelope of `bytes` was inserted for recipient (a recipient not yet read will count it when read). */
  added(recipient: string, bytes: number): void {
    const usage = this.known.get(recipient);
    if (usage === undefined) return;
    usage.count += 1;
    usage.bytes += bytes;
  }

  /** An envelope of `bytes` left recipient's queue. */
  removed(recipient: string, bytes: number): void {
    const usage = this.known.get(recipient);
    if (usage === undefined) return;
    usage.count -= 1;
    usage.bytes -= bytes;
  }

  /** Read every recipient's usage from the queue again when next needed. */
  forgetAll(): void {
    this.known.clear();
  }
}
