import type { ParleyErrorShape } from '../shared/errors.js';
import type { Message } from '../shared/domain.js';

/** C0 controls except tab, DEL and the C1 controls: the characters that can drive a terminal. */
export function isControlChar(char: string): boolean {
  const code = char.charCodeAt(0);
  return (code < 0x20 && code !== 0x09) || (code >= 0x7f && code <= 0x9f);
}

/** Make text from elsewhere safe for one terminal line: a peer's newlines and escapes are shown, not obeyed. */
export function terminalSafe(text: string): string {
  let safe = '';
  for (const char of text) {
    if (!isControlChar(char)) safe += char;
    else if (char === '\n') safe += '\\n';
    else if (char === '\r') safe += '\\r';
    else safe += `\\x${char.charCodeAt(0).toString(16).padStart(2, '0')}`;
  }
  return safe;
}

/** One received message as the CLI prints it: `FROM: TEXT` (or `FROM: [undecryptable: CODE]` for a placeholder). */
export function formatIncoming(message: Message): string {
  const text = message.kind === 'undecryptable' ? `[undecryptable: ${message.errorCode ?? 'unknown'}]` : message.text;
  return `${terminalSafe(message.contact)}: ${terminalSafe(text)}`;
}

/** A message of ours that reached its recipient; no username has a space, so this never reads as an incoming line. */
export function formatDelivered(message: Message): string {
  return `delivered to ${terminalSafe(message.contact)}: ${terminalSafe(message.text)}`;
}

export function printLine(text: string): void {
  process.stdout.write(`${text}\n`);
}

export function printError(error: ParleyErrorShape): void {
  process.stderr.write(`error ${error.code}: ${terminalSafe(error.message)}\n`);
}

export const USAGE = `usage: parley [--profile DIR] <command>

commands:
  init --username NAME --relay URL   create a profile and register it on a relay
  contacts add NAME                  add a contact by username
  contacts list                      list contacts, one per line
  send NAME TEXT                     send a message
  inbox                              print messages that arrived while offline
  listen                             print messages as they arrive, and deliveries of yours, until interrupted
  safety NAME                        print the safety number with a contact, and its QR code
  search QUERY                       search the history (words match as prefixes;
                                     filters from:NAME from:me in:NAME before:DATE after:DATE)
  backup export FILE                 write an encrypted backup of the whole profile
  backup import FILE                 restore a backup into an empty --profile folder
  passphrase change                  set a new passphrase (the old one stops working)
  recover                            set a new passphrase with the recovery key
  lock status                        say whether the registration lock is on
  lock enable                        turn the registration lock on (QR code, then one code)
  lock disable                       turn the registration lock off (asks for a code)

The passphrase comes from PARLEY_PASSPHRASE or is asked for on the terminal; a new one from
PARLEY_NEW_PASSPHRASE, the recovery key from PARLEY_RECOVERY_KEY, a backup's own passphrase from
PARLEY_BACKUP_PASSPHRASE (or a 32-byte key as 64 hex digits from PARLEY_BACKUP_KEY), a
registration-lock code from PARLEY_TOTP_CODE (else one line from stdin; init asks on a terminal
when the username is taken).
--profile defaults to ~/.parley/cli-profile.`;

/** A mistake in how the CLI was called: printed with the usage, exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export function printUsageError(error: UsageError): void {
  process.stderr.write(`${error.message}\n\n${USAGE}\n`);
}
