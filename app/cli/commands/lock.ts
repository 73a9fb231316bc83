import QRCode from 'qrcode';
import type { Core } from '../../core/index.js';
import { printLine } from '../output.js';
import { readTotpCode } from '../totp-code.js';
import { call, unlock, unlockOnline } from './session.js';

const describe = (enabled: boolean): string => `Registration lock: ${enabled ? 'on' : 'off'}`;

/** Print whether this profile turned the registration lock on (the relay does not report it). */
export async function lockStatus(core: Core, passphrase: string): Promise<void> {
  await unlock(core, passphrase);
  printLine(describe((await call(core, 'registrationLock.status', {})).enabled));
}

/** Show a fresh secret as an otpauth URI and a QR code, then turn the lock on with one code from the app. */
export async function lockEnable(core: Core, passphrase: string): Promise<void> {
  await unlockOnline(core, passphrase);
  const setup = await call(core, 'registrationLock.setup', {});
  printLine('Scan this QR code with an authenticator app (or enter the key by hand):');
  printLine(await QRCode.toString(setup.uri, { type: 'terminal', small: true }));
  printLine(setup.uri);
  printLine(`Key: ${setup.secret}`);
  const code = await readTotpCode('Code from the authenticator app');
  printLine(describe((await call(core, 'registrationLock.enable', { code })).enabled));
}

/** Turn the lock off with a current code. */
export async function lockDisable(core: Core, passphrase: string): Promise<void> {
  await unlockOnline(core, passphrase);
  const code = await readTotpCode('Code from the authenticator app');
  printLine(describe((await call(core, 'registrationLock.disable', { code })).enabled));
}
