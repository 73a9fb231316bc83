import type { Core } from '../../core/index.js';
import type { Message } from '../../shared/domain.js';
import { formatIncoming, printLine } from '../output.js';
import { onIncoming, SYNC_TIMEOUT_MS, unlockOnline } from './session.js';

/** Connect, let the relay deliver everything queued, print what arrived, and exit. */
export async function inbox(core: Core, passphrase: string): Promise<void> {
  const received: Message[] = [];
  // Subscribe before unlocking: delivery starts as soon as the core connects.
  const stop = onIncoming(core, (message) => received.push(message));
  try {
    await unlockOnline(core, passphrase);
    await core.whenSynced(SYNC_TIMEOUT_MS);
  } finally {
    stop();
  }
  for (const message of received) printLine(formatIncoming(message));
}
