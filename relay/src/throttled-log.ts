import type { Log, LogEvent, LogFields } from './log.js';

/**
 * An event that may come thousands of times a second (a refused write, a refused connection), logged at most once per
 * `intervalMs` with `refused`: how many came since the line before. So a flood does not fill the log as well.
 */
export class ThrottledLog {
  private sinceLine = 0;
  private loggedAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly log: Log,
    private readonly event: LogEvent,
    private readonly intervalMs: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** One more; logs it (with `fields`, computed only then) if the last line is `intervalMs` old. */
  note(fields: () => LogFields = () => ({})): void {
    this.sinceLine += 1;
    const now = this.now();
    if (now - this.loggedAt < this.intervalMs) return;
    this.log(this.event, { refused: this.sinceLine, ...fields() });
    this.loggedAt = now;
    this.sinceLine = 0;
  }
}
