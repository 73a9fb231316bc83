/**
 * The contract's method and event names, free of validators, so that the sandboxed preload can
 * check names without bundling zod. contract.ts proves these lists match its tables.
 */
export const METHOD_NAMES = [
  'profile.status',
  'profile.create',
  'profile.unlock',
  'contacts.list',
  'contacts.add',
  'messages.list',
  'messages.send',
  'connection.status',
  'safety.get',
  'safety.markVerified',
  'contacts.acknowledgeIdentity',
  'profile.confirmRecoveryKey',
  'profile.recover',
  'profile.changePassphrase',
  'profile.lock',
  'profile.unlockAuto',
  'settings.get',
  'settings.setAutoLock',
  'keychain.enable',
  'keychain.disable',
  'messages.search',
  'messages.around',
  'messages.exportConversation',
  'profile.newRecoveryKey',
  'registrationLock.status',
  'registrationLock.setup',
  'registrationLock.enable',
  'registrationLock.disable',
  'backup.export',
  'backup.sources',
  'backup.restore',
] as const;

export const EVENT_NAMES = [
  'message.added',
  'message.updated',
  'contact.added',
  'connection.changed',
  'contact.updated',
  'profile.locked',
] as const;

export type MethodName = (typeof METHOD_NAMES)[number];
export type EventName = (typeof EVENT_NAMES)[number];

export function isMethodName(value: unknown): value is MethodName {
  return typeof value === 'string' && (METHOD_NAMES as readonly string[]).includes(value);
}

export function isEventName(value: unknown): value is EventName {
  return typeof value === 'string' && (EVENT_NAMES as readonly string[]).includes(value);
}
