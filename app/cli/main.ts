import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { openCore, type Core } from '../core/index.js';
import { exportBackupFile, importBackupFile, readBackupSecret } from './commands/backup.js';
import { search } from './commands/search.js';
import { changePassphrase, recover } from './commands/vault.js';
import { missingCaseError } from '../shared/errors.js';
import { toErrorShape } from '../shared/result.js';
import { addContact, listContacts } from './commands/contacts.js';
import { inbox } from './commands/inbox.js';
import { init } from './commands/init.js';
import { listen } from './commands/listen.js';
import { send } from './commands/send.js';
import { safety } from './commands/safety.js';
import { lockDisable, lockEnable, lockStatus } from './commands/lock.js';
import { printError, printLine, printUsageError, USAGE, UsageError } from './output.js';
import { readChangedPassphrase, readNewPassphrase, readPassphrase, readSecret } from './prompt.js';

type Command =
  | { name: 'init'; username: string; relayUrl: string }
  | { name: 'contacts.add'; username: string }
  | { name: 'contacts.list' }
  | { name: 'send'; contact: string; text: string }
  | { name: 'inbox' }
  | { name: 'listen' }
  | { name: 'safety'; contact: string }
  | { name: 'search'; query: string }
  | { name: 'backup.export'; file: string }
  | { name: 'backup.import'; file: string }
  | { name: 'passphrase.change' }
  | { name: 'recover' }
  | { name: 'lock.status' }
  | { name: 'lock.enable' }
  | { name: 'lock.disable' };

interface Invocation {
  profileDir: string;
  command: Command;
}

const DEFAULT_PROFILE_DIR = join(homedir(), '.parley', 'cli-profile');

function expectArgs(words: string[], count: number, usage: string): void {
  if (words.length !== count) throw new UsageError(`usage: parley ${usage}`);
}

function parseCommand(words: string[], options: { username?: string; relay?: string }): Command {
  const [name, ...rest] = words;
  const onlyInit = (): void => {
    if (options.username !== undefined || options.relay !== undefined) {
      throw new UsageError('--username and --relay belong to init');
    }
  };
  switch (name) {
    case 'init': {
      expectArgs(rest, 0, 'init --username NAME --relay URL');
      const relayUrl = options.relay ?? process.env.PARLEY_RELAY_URL;
      if (options.username === undefined || relayUrl === undefined) throw new UsageError('usage: parley init --username NAME --relay URL');
      return { name: 'init', username: options.username, relayUrl };
    }
    case 'contacts': {
      onlyInit();
      const [action, ...names] = rest;
      if (action === 'add') {
        expectArgs(names, 1, 'contacts add NAME');
        return { name: 'contacts.add', username: names[0] ?? '' };
      }
      if (action === 'list') {
        expectArgs(names, 0, 'contacts list');
        return { name: 'contacts.list' };
      }
      throw new UsageError('usage: parley contacts add NAME | parley contacts list');
    }
    case 'send': {
      onlyInit();
      const [contact, ...words] = rest;
      if (contact === undefined || words.length === 0) throw new UsageError('usage: parley send NAME TEXT');
      return { name: 'send', contact, text: words.join(' ') };
    }
    case 'inbox':
    case 'listen':
      onlyInit();
      expectArgs(rest, 0, name);
      return { name };
    case 'safety': {
      onlyInit();
      expectArgs(rest, 1, 'safety NAME');
      return { name: 'safety', contact: rest[0] ?? '' };
    }
    case 'search': {
      onlyInit();
      if (rest.length === 0) throw new UsageError('usage: parley search QUERY');
      return { name: 'search', query: rest.join(' ') };
    }
    case 'backup': {
      onlyInit();
      const [action, ...files] = rest;
      expectArgs(files, 1, 'backup export FILE | parley backup import FILE');
      const file = resolve(files[0] ?? '');
      if (action === 'export') return { name: 'backup.export', file };
      if (action === 'import') return { name: 'backup.import', file };
      throw new UsageError('usage: parley backup export FILE | parley backup import FILE');
    }
    case 'passphrase': {
      onlyInit();
      if (rest.length !== 1 || rest[0] !== 'change') throw new UsageError('usage: parley passphrase change');
      return { name: 'passphrase.change' };
    }
    case 'recover':
      onlyInit();
      expectArgs(rest, 0, 'recover');
      return { name: 'recover' };
    case 'lock': {
      onlyInit();
      const [action, ...extra] = rest;
      expectArgs(extra, 0, 'lock status|enable|disable');
      if (action === 'status' || action === 'enable' || action === 'disable') return { name: `lock.${action}` };
      throw new UsageError('usage: parley lock status|enable|disable');
    }
    case undefined:
      throw new UsageError('missing command');
    default:
      throw new UsageError(`unknown command: ${name.slice(0, 64)}`);
  }
}

function parseInvocation(argv: string[]): Invocation | { help: true } {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        profile: { type: 'string' },
        username: { type: 'string' },
        relay: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : 'invalid arguments');
  }
  const { profile, username, relay, help } = parsed.values;
  if (help === true) return { help: true };
  return {
    profileDir: resolve(profile ?? DEFAULT_PROFILE_DIR),
    command: parseCommand(parsed.positionals, { username, relay }),
  };
}

async function run({ profileDir, command }: Invocation): Promise<void> {
  // Commands that do not start from the profile's passphrase.
  if (command.name === 'backup.import') return importBackupFile(profileDir, command.file, await readBackupSecret(false));
  if (command.name === 'recover') {
    const recoveryKey = await readSecret('PARLEY_RECOVERY_KEY', 'Recovery key');
    const newPassphrase = await readChangedPassphrase();
    return withCore(profileDir, (core) => recover(core, recoveryKey, newPassphrase));
  }
  // Ask for secrets before opening the profile, so a slow typist holds no database open.
  const passphrase = command.name === 'init' ? await readNewPassphrase() : await readPassphrase();
  if (command.name === 'passphrase.change') {
    const newPassphrase = await readChangedPassphrase();
    return withCore(profileDir, (core) => changePassphrase(core, passphrase, newPassphrase));
  }
  if (command.name === 'backup.export') {
    const secret = await readBackupSecret(true);
    return withCore(profileDir, (core) => exportBackupFile(core, passphrase, command.file, secret));
  }
  return withCore(profileDir, async (core) => {
    switch (command.name) {
      case 'init':
        return await init(core, passphrase, command.username, command.relayUrl);
      case 'contacts.add':
        return await addContact(core, passphrase, command.username);
      case 'contacts.list':
        return await listContacts(core, passphrase);
      case 'send':
        return await send(core, passphrase, command.contact, command.text);
      case 'inbox':
        return await inbox(core, passphrase);
      case 'listen':
        return await listen(core, passphrase);
      case 'safety':
        return await safety(core, passphrase, command.contact);
      case 'search':
        return await search(core, passphrase, command.query);
      case 'lock.status':
        return await lockStatus(core, passphrase);
      case 'lock.enable':
        return await lockEnable(core, passphrase);
      case 'lock.disable':
        return await lockDisable(core, passphrase);
      default:
        throw missingCaseError(command);
    }
  });
}

async function withCore(profileDir: string, work: (core: Core) => Promise<void>): Promise<void> {
  // No idle auto-lock in a terminal host: `listen` may wait for hours on purpose.
  // In-process on purpose: a terminal command has no UI thread to keep free, so no worker thread.
  const core = await openCore({ profileDir, defaultRelayUrl: process.env.PARLEY_RELAY_URL, idleLock: false });
  try {
    await work(core);
  } finally {
    await core.close();
  }
}

async function main(argv: string[]): Promise<number> {
  let invocation: Invocation;
  try {
    const parsed = parseInvocation(argv);
    if ('help' in parsed) {
      printLine(USAGE);
      return 0;
    }
    invocation = parsed;
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    printUsageError(error);
    return 2;
  }
  try {
    await run(invocation);
    return 0;
  } catch (error) {
    printError(toErrorShape(error));
    return 1;
  }
}

const exitCode = await main(process.argv.slice(2));
// Exit once stdout has drained: the core's timers must not keep a finished command alive.
process.stdout.write('', () => process.exit(exitCode));
