/** Calls onIdle once after `minutes` without a touch; 0 minutes means never. */
export class IdleTimer {
  #minutes = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(private readonly onIdle: () => void) {}

  get minutes(): number {
    return this.#minutes;
  }

  set(minutes: number): void {
    this.#minutes = minutes;
    this.touch();
  }

  touch(): void {
    this.stop();
    if (this.#minutes <= 0) return;
    this.#timer = setTimeout(this.onIdle, this.#minutes * 60_000);
    // An idle timer alone must not keep a CLI process alive.
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
