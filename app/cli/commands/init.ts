import type { Core } from '../../core/index.js';
import { ParleyError } from '../../shared/errors.js';
import { printLine } from '../output.js';
import { readTotpCode, TOTP_CODE_ENV } from '../totp-code.js';
import { call } from './session.js';

/**
 * Create the profile's keys and register the username on the relay. A username under a registration lock
 * (this user on a new machine) moves to the new keys with a current code: PARLEY_TOTP_CODE, or asked for
 * on a terminal when the relay says the name is taken (it does not say which names are locked).
 */
export async function init(core: Core, passphrase: string, username: string, relayUrl: string): Promise<void> {
  const create = (registrationLockCode?: string): ReturnType<typeof call<'profile.create'>> =>
    call(core, 'profile.create', { username, passphrase, relayUrl, ...(registrationLockCode === undefined ? {} : { registrationLockCode }) });
  const envCode = process.env[TOTP_CODE_ENV]?.trim();
  let profile;
  let locked = envCode !== undefined;
  try {
    profile = await create(envCode);
  } catch (error) {
    if (locked || !(error instanceof ParleyError) || error.code !== 'RELAY_USERNAME_TAKEN') throw error;
    if (!process.stdin.isTTY) {
      throw new ParleyError('RELAY_USERNAME_TAKEN', `${error.message}; if it is yours under a registration lock, set ${TOTP_CODE_ENV} to a current code`);
    }
    const typed = await readTotpCode('This username is taken. If it is yours under a registration lock, enter a current code (empty to stop)');
    if (typed === '') throw error;
    locked = true;
    profile = await create(typed);
  }
  printLine(`Registered ${profile.username} on ${profile.relayUrl}`);
  if (locked) printLine('Registration lock: on (the username moved to this profile)');
  // Shown this once only: it is the way back in if the passphrase is forgotten.
  printLine(`Recovery key: ${profile.recoveryKey}`);
  printLine('Write the recovery key down and keep it safe: it is shown only now.');
}
