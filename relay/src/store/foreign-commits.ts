import type Database from 'better-sqlite3-multiple-ciphers';

/**
 * PRAGMA data_version is read at most this often: a quiet relay would otherwise read it for nearly every frame, and
 * a busy one paid about 1 µs per message for reading it every millisecond.
 */
const CHECK_INTERVAL_MS = 10;

/**
 * Notices commits made by other connections to the database (the admin tool, run as its own process), so caches of
 * what is stored can be dropped. PRAGMA data_version (a read transaction, with its file locks) is read at most once
 * per CHECK_INTERVAL_MS: the admin tool's change is seen by the first check up to that long after it, which is all it
 * needs.
 */
export class ForeignCommits {
  private readonly dataVersion: Database.Statement<[], number>;
  private readonly listeners: Array<() => void> = [];
  private seenVersion: number;
  /** performance.now() of the last read. */
  private checkedAt = Number.NEGATIVE_INFINITY;

  constructor(db: Database.Database) {
    // Changes exactly when another connection commits to the database.
    this.dataVersion = db.prepare<[], number>('PRAGMA data_version').pluck();
    this.seenVersion = this.read();
  }

  /** Run listener whenever check() finds another connection's commit. */
  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }

  /** Call before trusting a cache: drops them all (through the listeners) if another connection has committed. */
  check(): void {
    const now = performance.now();
    if (now - this.checkedAt < CHECK_INTERVAL_MS) return;
    this.checkedAt = now;
    const version = this.read();
    if (version === this.seenVersion) return;
    this.seenVersion = version;
    for (const listener of this.listeners) listener();
  }

  private read(): number {
    const version = this.dataVersion.get();
    if (version === undefined) throw new Error('PRAGMA data_version returned no row');
    return version;
  }
}
