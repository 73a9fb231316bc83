import type { Core } from '../../core/index.js';
import { printLine } from '../output.js';
import { call } from './session.js';

/** Create the profile's keys and register the username on the relay. */
export async function init(core: Core, passphrase: string, username: string, relayUrl: string): Promise<void> {
  const profile = await call(core, 'profile.create', { username, passphrase, relayUrl });
  printLine(`Registered ${profile.username} on ${profile.relayUrl}`);
  // Shown this once only: it is the way back in if the passphrase is forgotten.
  printLine(`Recovery key: ${profile.recoveryKey}`);
  printLine('Write the recovery key down and keep it safe: it is shown only now.');
}
