import QRCode from 'qrcode';
import type { Core } from '../../core/index.js';
import { printLine } from '../output.js';
import { call, unlock } from './session.js';

/** Print the safety number with a contact in groups of five, and its QR code as terminal text. */
export async function safety(core: Core, passphrase: string, contact: string): Promise<void> {
  await unlock(core, passphrase);
  const number = await call(core, 'safety.get', { contact });
  const groups = number.digits.match(/\d{5}/g) ?? [];
  printLine(`Safety number with ${number.contact}${number.verified ? ' (verified)' : ''}:`);
  for (let row = 0; row < groups.length; row += 4) printLine(`  ${groups.slice(row, row + 4).join(' ')}`);
  if (number.identityChanged) printLine(`Warning: ${number.contact}'s identity key changed; sending is held until you acknowledge it in the app.`);
  printLine(await QRCode.toString(number.payload, { type: 'terminal', small: true }));
  printLine(number.payload);
}
