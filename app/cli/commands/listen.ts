import type { Core } from '../../core/index.js';
import { formatDelivered, formatIncoming, printLine } from '../output.js';
import { onDelivered, onIncoming, unlockOnline } from './session.js';

function untilInterrupted(): Promise<void> {
  return new Promise((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
}

/** Stay connected and print each message as it arrives, and each of ours as it is delivered, until SIGINT or SIGTERM. */
export async function listen(core: Core, passphrase: string): Promise<void> {
  const interrupted = untilInterrupted();
  const stops = [onIncoming(core, (message) => printLine(formatIncoming(message))), onDelivered(core, (message) => printLine(formatDelivered(message)))];
  try {
    await unlockOnline(core, passphrase);
    await interrupted;
  } finally {
    for (const stop of stops) stop();
  }
}
