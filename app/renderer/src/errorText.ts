import type { ErrorCode, ParleyErrorShape } from '../../shared/index.js';

const SENTENCES: Partial<Record<ErrorCode, string>> = {
  VAULT_WRONG_PASSPHRASE: 'That passphrase is not correct. Try again.',
  RELAY_UNREACHABLE: 'Could not reach the relay. Check the address and that the relay is running.',
  RELAY_USERNAME_TAKEN: 'That username is already taken on this relay. Pick another one.',
  CONTACT_UNKNOWN_USER: 'Nobody with that username is registered on this relay.',
  CONTACT_IS_SELF: 'That is your own username. Add someone else.',
  RELAY_SESSION_REPLACED: 'Parley connected from another place with this account, so this one went offline. Reopen it to take over.',
  HOST_DISCONNECTED: 'Lost the connection to Parley. Try again in a moment.',
  VAULT_WRONG_RECOVERY_KEY: 'That recovery key does not match. Check each group of four and try again.',
  INTERNAL: 'Something went wrong inside Parley. Try again.',
  IDENTITY_CHANGED: 'This contact’s safety number changed. Acknowledge the change before sending.',
  SAFETY_NUMBER_MISMATCH: 'The scanned code does not match. Do not mark this contact verified.',
  REGLOCK_INVALID_CODE: 'That code is wrong or has expired. Enter the code your authenticator app shows now.',
  REGLOCK_NOT_PENDING: 'Start again: turn on the registration lock to get a new QR code.',
  REGLOCK_NOT_ENABLED: 'The relay has no registration lock for this username.',
  RELAY_RATE_LIMITED: 'Too many attempts. Wait a while and try again.',
  RELAY_STORAGE_FULL: 'The relay is out of storage space. Try again later, or tell whoever runs it.',
  BACKUP_WRONG_KEY: 'That backup passphrase does not open this backup. Nothing was changed.',
  BACKUP_CORRUPT: 'This backup file is damaged or incomplete, so it cannot be restored. Nothing was changed.',
  BACKUP_NOT_OURS: 'That file is not a Parley backup, or it cannot be read. Nothing was changed.',
  BACKUP_TARGET_NOT_EMPTY: 'This computer already has a Parley profile. A backup can only be restored into a new one.',
  BACKUP_CANCELLED: 'No file was chosen.',
};

/** A sentence a person can act on; core's own message where it already is one. */
export function errorText(error: ParleyErrorShape): string {
  return SENTENCES[error.code] ?? error.message;
}
