import { ParleyError } from '../../shared/errors.js';
import { randomBytes } from '../crypto/random.js';

/** 160 random bits: far beyond guessing, so the key needs no slow KDF, and 32 characters to type. */
export const RECOVERY_KEY_BYTES = 20;
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'; // Crockford base32: no I, L, O, U
const GROUP = 4;

export function generateRecoveryKey(): Uint8Array {
  return randomBytes(RECOVERY_KEY_BYTES);
}

/** The readable form shown once at setup: eight groups of four, e.g. `7K3M-...`. */
export function formatRecoveryKey(key: Uint8Array): string {
  let bits = 0;
  let value = 0;
  let text = '';
  for (const byte of key) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      text += ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    value &= (1 << bits) - 1;
  }
  if (bits > 0) text += ALPHABET[(value << (5 - bits)) & 31];
  return (text.match(new RegExp(`.{1,${GROUP}}`, 'g')) ?? []).join('-');
}

/** Parse what the user typed: case, spaces and dashes do not matter, and O/I/L read as 0/1/1. */
export function parseRecoveryKey(typed: string): Uint8Array {
  const clean = typed.toUpperCase().replace(/[\s-]/g, '').replace(/O/g, '0').replace(/[IL]/g, '1');
  const wrong = (): ParleyError => new ParleyError('VAULT_WRONG_RECOVERY_KEY', 'That recovery key is not valid: it has 32 letters and digits in groups of four');
  if (clean.length !== Math.ceil((RECOVERY_KEY_BYTES * 8) / 5)) throw wrong();
  const out = new Uint8Array(RECOVERY_KEY_BYTES);
  let bits = 0;
  let value = 0;
  let index = 0;
  for (const char of clean) {
    const digit = ALPHABET.indexOf(char);
    if (digit < 0) throw wrong();
    value = (value << 5) | digit;
    bits += 5;
    if (bits >= 8) {
      out[index++] = (value >>> (bits - 8)) & 0xff;
      bits -= 8;
      value &= (1 << bits) - 1;
    }
  }
  return out;
}
