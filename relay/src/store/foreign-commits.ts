import type Database from 'better-sqlite3-multiple-ciphers';

/**
 * Notices commits made by other connections to the database (the admin tool, run as its own process), so caches of
 * what is stored can be dropped. PRAGMA data_version is read at most once per event-loop turn: a busy relay handles
 * many frames per turn, and the admin tool's change is seen from the next turn on, which is all it needs.
 */
export class ForeignCommits {
  private readonly dataVersion: Database.Statement<[], number>;
  private readonly listeners: Array<() => void> = [];
  private seenVersion: number;
  private checkedThisTurn = false;
  private readonly nextTurn = (): void => {
    this.checkedThisTurn = false;
  };

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
    if (this.checkedThisTurn) return;
    this.checkedThisTurn = true;
    setImmediate(this.nextTurn);
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
