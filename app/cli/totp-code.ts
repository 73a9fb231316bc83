import { createInterface } from 'node:readline';
import { ParleyError } from '../shared/errors.js';

export const TOTP_CODE_ENV = 'PARLEY_TOTP_CODE';

/**
 * A registration-lock code: PARLEY_TOTP_CODE, else one line from stdin (typed at the prompt, or piped by a
 * script that reads the secret first). Codes live 30 s, so they are not hidden as passphrases are.
 */
export function readTotpCode(question: string): Promise<string> {
  const fromEnv = process.env[TOTP_CODE_ENV];
  if (fromEnv !== undefined) return Promise.resolve(fromEnv.trim());
  return new Promise((resolve, reject) => {
    const reader = createInterface({ input: process.stdin, terminal: false });
    let answered = false;
    reader.once('line', (line) => {
      answered = true;
      reader.close();
      resolve(line.trim());
    });
    reader.once('close', () => {
      if (!answered) reject(new ParleyError('VALIDATION_FAILED', `No code: set ${TOTP_CODE_ENV} or type the code from the authenticator app`));
    });
    process.stderr.write(`${question}: `);
  });
}
