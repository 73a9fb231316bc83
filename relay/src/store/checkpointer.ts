import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/** How often the worker moves the log's committed pages into the database file. */
export const CHECKPOINT_EVERY_MS = 1_000;

/** How long close() waits for a checkpoint under way to finish before it stops the worker anyway. */
const CLOSE_WAIT_MS = 5_000;

/** What SQLite answers to PRAGMA wal_checkpoint: pages in the log, and how many of them are now in the database. */
export interface CheckpointResult {
  readonly busy: number;
  readonly log: number;
  readonly checkpointed: number;
}

type WorkerReply = { readonly result: CheckpointResult } | { readonly error: string };

// Plain CommonJS, run with eval: the relay ships as one bundle, and the tests run its TypeScript as it is.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.sqlite);
const db = new Database(workerData.path);
db.pragma('busy_timeout = 5000');
const closed = new Int32Array(workerData.closed);
parentPort.on('message', (message) => {
  if (message === 'close') {
    db.close();
    Atomics.store(closed, 0, 1);
    Atomics.notify(closed, 0);
    parentPort.close();
    return;
  }
  try {
    const [result] = db.pragma('wal_checkpoint(PASSIVE)');
    parentPort.postMessage({ result });
  } catch (error) {
    parentPort.postMessage({ error: String(error) });
  }
});
`;

/** What the owner of a Checkpointer hears. */
export interface CheckpointerEvents {
  /** The worker is gone (told once): the owner should turn its connection's automatic checkpoints back on. */
  readonly onFailure: (error: Error) => void;
  /** A checkpoint failed (a full disk, say): told for the first of a run of failures; the next runs on time all the same. */
  readonly onCheckpointFailed: (error: Error) => void;
}

/**
 * Checkpoints a WAL database from a worker thread with a connection of its own, so the relay's event loop never waits
 * for the two flushes and the copy a checkpoint costs (SQLite's automatic one runs inside the commit that fills the
 * log). The owner turns its connection's automatic checkpoints off while this runs, and back on if the worker fails.
 */
export class Checkpointer {
  private readonly worker: Worker;
  private readonly closed = new SharedArrayBuffer(4);
  private readonly timer: NodeJS.Timeout;
  private readonly waiting: Array<(reply: WorkerReply) => void> = [];
  private failed = false;
  private stopped = false;
  /** The last checkpoint failed; the next failure is not told again. */
  private failing = false;

  constructor(
    path: string,
    private readonly events: CheckpointerEvents,
    everyMs = CHECKPOINT_EVERY_MS,
  ) {
    const sqlite = createRequire(import.meta.url).resolve('better-sqlite3-multiple-ciphers');
    this.worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { sqlite, path, closed: this.closed } });
    this.worker.on('message', (reply: WorkerReply) => this.waiting.shift()?.(reply));
    this.worker.on('error', (error) => this.fail(error));
    // After close() this is no failure: fail() ignores a stopped checkpointer.
    this.worker.on('exit', (code) => this.fail(new Error(`the checkpoint worker exited with ${code}`)));
    this.timer = setInterval(() => this.checkpointOnTime(), everyMs);
    this.timer.unref();
    this.worker.unref();
  }

  /** One PASSIVE checkpoint now: it copies what no reader still needs and never blocks a writer. */
  checkpoint(): Promise<CheckpointResult> {
    if (this.failed || this.stopped) return Promise.reject(new Error('the checkpointer has stopped'));
    return new Promise((resolve, reject) => {
      this.waiting.push((reply) => ('result' in reply ? resolve(reply.result) : reject(new Error(reply.error))));
      this.worker.postMessage('checkpoint');
    });
  }

  private checkpointOnTime(): void {
    this.checkpoint().then(
      () => (this.failing = false),
      (error: unknown) => {
        // A worker that failed has told its owner already.
        if (this.failed || this.stopped || this.failing) return;
        this.failing = true;
        this.events.onCheckpointFailed(error instanceof Error ? error : new Error(String(error)));
      },
    );
  }

  /** Close the worker's connection before the owner closes its own (so the owner's, the last, checkpoints and removes the log). */
  close(): void {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.timer);
    if (!this.failed) {
      this.worker.postMessage('close');
      Atomics.wait(new Int32Array(this.closed), 0, 0, CLOSE_WAIT_MS);
    }
    void this.worker.terminate();
  }

  private fail(error: unknown): void {
    if (this.failed || this.stopped) return;
    this.failed = true;
    clearInterval(this.timer);
    for (const answer of this.waiting.splice(0)) answer({ error: 'the checkpoint worker failed' });
    this.events.onFailure(error instanceof Error ? error : new Error(String(error)));
  }
}
