import type { Core } from '../../core/index.js';
import { printLine, terminalSafe } from '../output.js';
import { call, unlock, unlockOnline } from './session.js';

/** Look the user up on the relay and store their identity key. */
export async function addContact(core: Core, passphrase: string, username: string): Promise<void> {
  await unlockOnline(core, passphrase);
  const contact = await call(core, 'contacts.add', { username });
  printLine(`Added ${terminalSafe(contact.username)}`);
}

export async function listContacts(core: Core, passphrase: string): Promise<void> {
  await unlock(core, passphrase);
  for (const contact of await call(core, 'contacts.list', {})) printLine(terminalSafe(contact.username));
}
