import type { Core } from '../../core/index.js';
import { formatIncoming, printLine } from '../output.js';
import { onIncoming, unlockOnline } from './session.js';

function untilInterrupted(): Promise<void> {
  return new Promise((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
}

/** Stay connected and print each message as it arrives, until SIGINT or SIGTERM. */
export async function listen(core: Core, passphrase: string): Promise<void> {
  const interrupted = untilInterrupted();
  const stop = onIncoming(core, (message) => printLine(formatIncoming(message)));
  try {
    await unlockOnline(core, passphrase);
    await interrupted;
  } finally {
    stop();
  }
}
