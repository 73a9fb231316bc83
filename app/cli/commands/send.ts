import type { Core } from '../../core/index.js';
import type { MessageStatus } from '../../shared/domain.js';
import { ParleyError } from '../../shared/errors.js';
import { printLine } from '../output.js';
import { call, ONLINE_TIMEOUT_MS, unlockOnline } from './session.js';

/** Resolve with the first settled status ('sent', 'delivered' or 'failed') the core reports for one message id. */
function watchStatus(core: Core): { settled: (id: string, current: MessageStatus) => Promise<MessageStatus>; stop: () => void } {
  const latest = new Map<string, MessageStatus>();
  const waiters = new Map<string, (status: MessageStatus) => void>();
  const isSettled = (status: MessageStatus): boolean => status === 'sent' || status === 'delivered' || status === 'failed';
  const stop = core.on('message.updated', (message) => {
    latest.set(message.id, message.status);
    if (isSettled(message.status)) waiters.get(message.id)?.(message.status);
  });
  const settled = (id: string, current: MessageStatus): Promise<MessageStatus> => {
    // An update may have arrived before messages.send returned.
    const known = latest.get(id) ?? current;
    if (isSettled(known)) return Promise.resolve(known);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new ParleyError('RELAY_UNREACHABLE', 'The relay did not confirm the message; it stays queued and is retried next time')),
        ONLINE_TIMEOUT_MS,
      );
      waiters.set(id, (status) => {
        clearTimeout(timer);
        resolve(status);
      });
    });
  };
  return { settled, stop };
}

/** Send one message and report success only once the relay has accepted it. */
export async function send(core: Core, passphrase: string, contact: string, text: string): Promise<void> {
  await unlockOnline(core, passphrase);
  const status = watchStatus(core);
  try {
    const message = await call(core, 'messages.send', { contact, text });
    const final = await status.settled(message.id, message.status);
    if (final === 'failed') throw new ParleyError('RELAY_REJECTED', 'The relay did not accept the message');
    printLine('sent');
  } finally {
    status.stop();
  }
}
