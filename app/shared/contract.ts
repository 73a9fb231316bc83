import { z } from 'zod';
import {
  ConnectionState,
  Contact,
  CreatedProfile,
  RecoveryKeyText,
  SearchHit,
  VaultSettings,
  Message,
  MessageText,
  Passphrase,
  ProfileInfo,
  ProfileStatus,
  RelayUrl,
  SafetyNumber,
  Username,
  RegistrationLockCode,
  RegistrationLockSetup,
  RegistrationLockStatus,
} from './domain.js';
import { BackupFileName, BackupSources, BackupWritten } from './backup.js';
import type { EventName, MethodName } from './names.js';

const Empty = z.object({}).strict();
/** A passphrase being re-entered: the strength floor applies only to new ones. */
const AnyPassphrase = z.string().min(1).max(1024);

/**
 * The IPC contract: every method the UI may call, with validators for what goes in and what comes out.
 * The same table serves Electron IPC, the devhost bridge, the CLI and tests.
 */
export const methods = {
  'profile.status': { input: Empty, output: ProfileStatus },
  'profile.create': {
    input: z.object({ username: Username, passphrase: Passphrase, relayUrl: RelayUrl, registrationLockCode: RegistrationLockCode.optional() }).strict(),
    output: CreatedProfile,
  },
  'profile.unlock': { input: z.object({ passphrase: z.string().min(1).max(1024) }).strict(), output: ProfileInfo },
  'contacts.list': { input: Empty, output: z.array(Contact) },
  'contacts.add': { input: z.object({ username: Username }).strict(), output: Contact },
  'messages.list': {
    input: z
      .object({
        contact: Username,
        /** Return messages sent strictly before this message id's position (a cursor); omit for the latest page. */
        before: z.string().regex(/^[0-9a-f]{32}$/).optional(),
        limit: z.number().int().min(1).max(500).optional(),
      })
      .strict(),
    output: z.array(Message),
  },
  'messages.send': { input: z.object({ contact: Username, text: MessageText }).strict(), output: Message },
  'connection.status': { input: Empty, output: ConnectionState },
  'safety.get': { input: z.object({ contact: Username }).strict(), output: SafetyNumber },
  /** Mark verified (or not). With scannedPayload, only when it matches: SAFETY_NUMBER_MISMATCH otherwise. */
  'safety.markVerified': {
    input: z.object({ contact: Username, verified: z.boolean(), scannedPayload: z.string().max(200).optional() }).strict(),
    output: Contact,
  },
  /** The user has seen that the contact's identity key changed: sending to them resumes. */
  'contacts.acknowledgeIdentity': { input: z.object({ contact: Username }).strict(), output: Contact },
  'profile.confirmRecoveryKey': { input: z.object({ recoveryKey: RecoveryKeyText }).strict(), output: Empty },
  'profile.recover': { input: z.object({ recoveryKey: RecoveryKeyText, newPassphrase: Passphrase }).strict(), output: ProfileInfo },
  'profile.changePassphrase': { input: z.object({ passphrase: AnyPassphrase, newPassphrase: Passphrase }).strict(), output: Empty },
  'profile.lock': { input: Empty, output: Empty },
  'profile.unlockAuto': { input: Empty, output: ProfileInfo },
  'settings.get': { input: Empty, output: VaultSettings },
  'settings.setAutoLock': { input: z.object({ minutes: z.number().int().min(0).max(1440) }).strict(), output: VaultSettings },
  'keychain.enable': { input: z.object({ passphrase: AnyPassphrase }).strict(), output: VaultSettings },
  'keychain.disable': { input: Empty, output: VaultSettings },
  'messages.search': {
    input: z.object({ query: z.string().trim().min(1).max(500), limit: z.number().int().min(1).max(200).optional() }).strict(),
    output: z.array(SearchHit),
  },
  'messages.around': {
    input: z
      .object({
        contact: Username,
        /** open the conversation at this message... */
        id: z.string().regex(/^[0-9a-f]{32}$/).optional(),
        /** ...or at the first message on or after this time (ms since the epoch): jump to date */
        at: z.number().int().min(0).optional(),
        limit: z.number().int().min(1).max(500).optional(),
      })
      .strict()
      .refine((input) => (input.id === undefined) !== (input.at === undefined), 'Give either id or at'),
    output: z.array(Message),
  },
  'messages.exportConversation': {
    input: z.object({ contact: Username, passphrase: AnyPassphrase, format: z.enum(['html', 'json']) }).strict(),
    output: z.object({ fileName: z.string(), mimeType: z.string(), content: z.string() }),
  },
  'profile.newRecoveryKey': { input: z.object({ passphrase: AnyPassphrase }).strict(), output: z.object({ recoveryKey: z.string() }) },
  'registrationLock.status': { input: Empty, output: RegistrationLockStatus },
  'registrationLock.setup': { input: Empty, output: RegistrationLockSetup },
  'registrationLock.enable': { input: z.object({ code: RegistrationLockCode }).strict(), output: RegistrationLockStatus },
  'registrationLock.disable': { input: z.object({ code: RegistrationLockCode }).strict(), output: RegistrationLockStatus },
  /** Write an encrypted backup of the whole profile where the host decides (a save dialog, or its backups folder); BACKUP_CANCELLED if the user backs out. */
  'backup.export': { input: z.object({ passphrase: AnyPassphrase, backupPassphrase: Passphrase }).strict(), output: BackupWritten },
  /** How the user picks a backup to restore on this host. */
  'backup.sources': { input: Empty, output: BackupSources },
  /** Restore a backup into this empty profile; fileName names one of backup.sources' files where the host lists them. */
  'backup.restore': { input: z.object({ backupPassphrase: AnyPassphrase, fileName: BackupFileName.optional() }).strict(), output: ProfileStatus },
} as const satisfies Record<string, { input: z.ZodType; output: z.ZodType }>;

/** Events the core pushes to the UI. */
export const events = {
  'message.added': Message,
  'message.updated': Message,
  'contact.added': Contact,
  'connection.changed': ConnectionState,
  'contact.updated': Contact,
  'profile.locked': z.object({ reason: z.enum(['user', 'idle', 'system']) }),
} as const satisfies Record<string, z.ZodType>;

export type { EventName, MethodName } from './names.js';
export { EVENT_NAMES, METHOD_NAMES, isEventName, isMethodName } from './names.js';

// Compile-time proof that names.ts lists exactly the methods and events of these tables.
type SameKeys<A extends PropertyKey, B extends PropertyKey> = [A] extends [B] ? ([B] extends [A] ? true : never) : never;
const methodNamesMatch: SameKeys<keyof typeof methods, MethodName> = true;
const eventNamesMatch: SameKeys<keyof typeof events, EventName> = true;
void methodNamesMatch;
void eventNamesMatch;

export type MethodInput<M extends MethodName> = z.input<(typeof methods)[M]['input']>;
export type MethodParsedInput<M extends MethodName> = z.output<(typeof methods)[M]['input']>;
export type MethodOutput<M extends MethodName> = z.output<(typeof methods)[M]['output']>;
export type EventPayload<E extends EventName> = z.output<(typeof events)[E]>;
