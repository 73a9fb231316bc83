/** Runs tasks one after another in arrival order; a failing task does not stop the queue. */
export class SerialQueue {
  #tail: Promise<void> = Promise.resolve();

  push<T>(task: () => Promise<T> | T): Promise<T> {
    const run = this.#tail.then(task);
    this.#tail = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  /** Resolves once every task pushed so far has finished. */
  idle(): Promise<void> {
    return this.#tail;
  }
}
