import type { Core } from '../../core/index.js';
import { printLine } from '../output.js';
import { call } from './session.js';

/** Replace the passphrase; the old one stops working. */
export async function changePassphrase(core: Core, passphrase: string, newPassphrase: string): Promise<void> {
  await call(core, 'profile.changePassphrase', { passphrase, newPassphrase });
  printLine('Passphrase changed');
}

/** Forgot the passphrase: the recovery key sets a new one. */
export async function recover(core: Core, recoveryKey: string, newPassphrase: string): Promise<void> {
  const profile = await call(core, 'profile.recover', { recoveryKey, newPassphrase });
  printLine(`Passphrase reset for ${profile.username}`);
}


