import { closeSync, fdatasync, openSync } from 'node:fs';

/**
 * Flushes a WAL database's log file to disk on libuv's thread pool. A transaction committed with synchronous = NORMAL
 * is in the log but maybe not on the disk yet; once a flush that started after its commit is done, it is as durable
 * as under FULL, and the event loop did not wait for the disk.
 */
export class WalSync {
  private fd: number | undefined;

  /** The log must exist (it does once the database has been opened in WAL mode and read). SQLite keeps it while a connection is open. */
  constructor(walPath: string) {
    this.fd = openSync(walPath, 'r');
  }

  sync(done: (error: Error | undefined) => void): void {
    const fd = this.fd;
    if (fd === undefined) {
      done(new Error('the WAL file is closed'));
      return;
    }
    fdatasync(fd, (error) => done(error ?? undefined));
  }

  /** After the last sync has called back. */
  close(): void {
    if (this.fd === undefined) return;
    closeSync(this.fd);
    this.fd = undefined;
  }
}
