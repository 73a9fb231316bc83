import { emitKeypressEvents } from 'node:readline';
import { ParleyError } from '../shared/errors.js';
import { isControlChar } from './output.js';

const ENTER = new Set(['return', 'enter']);
const BACKSPACE = new Set(['backspace', 'delete']);

/** Read one line from the terminal without echoing it; Ctrl-C or Ctrl-D aborts. */
function readHidden(question: string): Promise<string> {
  const input = process.stdin;
  return new Promise((resolve, reject) => {
    let typed = '';
    const finish = (error: Error | null): void => {
      input.off('keypress', onKey);
      input.setRawMode(false);
      input.pause();
      process.stderr.write('\n');
      if (error === null) resolve(typed);
      else reject(error);
    };
    const onKey = (text: string | undefined, key: { name?: string; ctrl?: boolean } | undefined): void => {
      if (key?.ctrl === true && (key.name === 'c' || key.name === 'd')) {
        finish(new ParleyError('VALIDATION_FAILED', 'Passphrase entry cancelled'));
      } else if (key?.name !== undefined && ENTER.has(key.name)) {
        finish(null);
      } else if (key?.name !== undefined && BACKSPACE.has(key.name)) {
        typed = typed.slice(0, -1);
      } else if (text !== undefined && key?.ctrl !== true && ![...text].some(isControlChar)) {
        typed += text;
      }
    };
    process.stderr.write(question);
    emitKeypressEvents(input);
    input.setRawMode(true);
    input.on('keypress', onKey);
    input.resume();
  });
}

function requireTerminal(): void {
  if (!process.stdin.isTTY) {
    throw new ParleyError('VALIDATION_FAILED', 'No passphrase: set PARLEY_PASSPHRASE or run the command in a terminal');
  }
}

/** The passphrase of an existing profile. */
export async function readPassphrase(): Promise<string> {
  const fromEnv = process.env.PARLEY_PASSPHRASE;
  if (fromEnv !== undefined) return fromEnv;
  requireTerminal();
  return readHidden('Passphrase: ');
}

/** A passphrase for a new profile, typed twice on a terminal so a typo does not lock the user out. */
export async function readNewPassphrase(): Promise<string> {
  const fromEnv = process.env.PARLEY_PASSPHRASE;
  if (fromEnv !== undefined) return fromEnv;
  requireTerminal();
  const first = await readHidden('New passphrase: ');
  const second = await readHidden('Repeat passphrase: ');
  if (first !== second) throw new ParleyError('VALIDATION_FAILED', 'The passphrases do not match');
  return first;
}

/** A secret from an environment variable, or typed on the terminal (twice when it is new). */
export async function readSecret(envName: string, question: string, options: { confirm?: boolean } = {}): Promise<string> {
  const fromEnv = process.env[envName];
  if (fromEnv !== undefined) return fromEnv;
  if (!process.stdin.isTTY) throw new ParleyError('VALIDATION_FAILED', `Set ${envName} or run the command in a terminal`);
  const first = await readHidden(`${question}: `);
  if (options.confirm !== true) return first;
  const second = await readHidden(`Repeat ${question.toLowerCase()}: `);
  if (first !== second) throw new ParleyError('VALIDATION_FAILED', 'The two entries do not match');
  return first;
}

/** The new passphrase for `passphrase change` and `recover`. */
export function readChangedPassphrase(): Promise<string> {
  return readSecret('PARLEY_NEW_PASSPHRASE', 'New passphrase', { confirm: true });
}
