import { z } from 'zod';
import {
  ConnectionState,
  Contact,
  Message,
  MessageText,
  Passphrase,
  ProfileInfo,
  ProfileStatus,
  RelayUrl,
  Username,
} from './domain.js';

const Empty = z.object({}).strict();

/**
 * The IPC contract: every method the UI may call, with validators for what goes in and what comes out.
 * The same table serves Electron IPC, the devhost bridge, the CLI and tests.
 */
export const methods = {
  'profile.status': { input: Empty, output: ProfileStatus },
  'profile.create': {
    input: z.object({ username: Username, passphrase: Passphrase, relayUrl: RelayUrl }).strict(),
    output: ProfileInfo,
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
} as const satisfies Record<string, { input: z.ZodType; output: z.ZodType }>;

/** Events the core pushes to the UI. */
export const events = {
  'message.added': Message,
  'message.updated': Message,
  'contact.added': Contact,
  'connection.changed': ConnectionState,
} as const satisfies Record<string, z.ZodType>;

export type MethodName = keyof typeof methods;
export type EventName = keyof typeof events;
export type MethodInput<M extends MethodName> = z.input<(typeof methods)[M]['input']>;
export type MethodParsedInput<M extends MethodName> = z.output<(typeof methods)[M]['input']>;
export type MethodOutput<M extends MethodName> = z.output<(typeof methods)[M]['output']>;
export type EventPayload<E extends EventName> = z.output<(typeof events)[E]>;

export const METHOD_NAMES = Object.keys(methods) as MethodName[];
export const EVENT_NAMES = Object.keys(events) as EventName[];

export function isMethodName(value: unknown): value is MethodName {
  return typeof value === 'string' && Object.hasOwn(methods, value);
}

export function isEventName(value: unknown): value is EventName {
  return typeof value === 'string' && Object.hasOwn(events, value);
}
