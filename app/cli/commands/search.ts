import type { Core } from '../../core/index.js';
import { printLine, terminalSafe } from '../output.js';
import { call } from './session.js';

/** Print each match, newest first, as `DATE FROM -> TO: TEXT`. */
export async function search(core: Core, passphrase: string, query: string): Promise<void> {
  const profile = await call(core, 'profile.unlock', { passphrase });
  for (const { message } of await call(core, 'messages.search', { query, limit: 200 })) {
    const [from, to] = message.direction === 'out' ? [profile.username, message.contact] : [message.contact, profile.username];
    printLine(`${new Date(message.sentAt).toISOString()} ${terminalSafe(from)} -> ${terminalSafe(to)}: ${terminalSafe(message.text)}`);
  }
}


