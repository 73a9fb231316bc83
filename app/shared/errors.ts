/** Stable error codes that cross every boundary (IPC, devhost bridge, CLI). Clients match on these strings. */
export const ERROR_CODES = [
  'VALIDATION_FAILED',
  'IPC_UNKNOWN_METHOD',
  'IPC_FORBIDDEN_SENDER',
  'VAULT_NO_PROFILE',
  'VAULT_PROFILE_EXISTS',
  'VAULT_WRONG_PASSPHRASE',
  'VAULT_LOCKED',
  'VAULT_CORRUPT',
  'RELAY_UNREACHABLE',
  'RELAY_REJECTED',
  'RELAY_USERNAME_TAKEN',
  'RELAY_PROTOCOL_ERROR',
  'RELAY_SESSION_REPLACED',
  'RELAY_RATE_LIMITED',
  'CONTACT_UNKNOWN_USER',
  'CONTACT_IS_SELF',
  'CONTACT_NOT_FOUND',
  'CONTACT_KEY_MISMATCH',
  'MESSAGE_TOO_LARGE',
  'DECRYPT_FAILED',
  'DECRYPT_BAD_SIGNATURE',
  'RUNTIME_MISSING',
  'INTERNAL',
  'HOST_DISCONNECTED',
  'DECRYPT_DUPLICATE',
  'DECRYPT_TOO_MANY_SKIPPED',
  'DECRYPT_MALFORMED',
  'SESSION_NOT_READY',
  'PREKEY_BAD_SIGNATURE',
  'PREKEY_BUNDLE_INVALID',
  'PREKEY_UNKNOWN',
  'IDENTITY_CHANGED',
  'SAFETY_NUMBER_MISMATCH',
  'VAULT_WEAK_PASSPHRASE',
  'VAULT_WRONG_RECOVERY_KEY',
  'VAULT_NO_RECOVERY_KEY',
  'KEYCHAIN_UNAVAILABLE',
  'KEYCHAIN_NOT_ENABLED',
  'SEARCH_BAD_QUERY',
  'ATTACHMENT_NOT_FOUND',
  'ATTACHMENT_CORRUPT',
  'BACKUP_CORRUPT',
  'BACKUP_WRONG_KEY',
  'BACKUP_NOT_OURS',
  'BACKUP_TARGET_NOT_EMPTY',
  'REGLOCK_INVALID_CODE',
  'REGLOCK_NOT_PENDING',
  'REGLOCK_NOT_ENABLED',
  'CORE_WORKER_EXITED',
  'BACKUP_CANCELLED',
  'RELAY_STORAGE_FULL',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export interface ParleyErrorShape {
  code: ErrorCode;
  message: string;
}

/** An error with a stable code, thrown inside core and turned into a Result at every boundary. */
export class ParleyError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ParleyError';
  }

  toJSON(): ParleyErrorShape {
    return { code: this.code, message: this.message };
  }
}

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && (ERROR_CODES as readonly string[]).includes(value);
}

/** For exhaustive switches: a case that TypeScript proves unreachable. */
export function missingCaseError(value: never): Error {
  return new Error(`unhandled case: ${String(value)}`);
}
