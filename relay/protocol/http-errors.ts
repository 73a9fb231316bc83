/**
 * Stable codes of the HTTP API's errors (`/v1/`, JSON `{"code", "message"}`, and `retryAfterMs` where a retry is due).
 * Some are wire codes too; each means the same over both. Never rename one: clients match on them.
 */
export const HTTP_ERROR_CODES = [
  'TOKEN_MISSING',
  'TOKEN_INVALID',
  'TOKEN_EXPIRED',
  'TOKEN_AUDIENCE',
  'TOKEN_TYPE',
  'AUTH_BANNED',
  'RATE_LIMITED',
  'METHOD_NOT_ALLOWED',
  'BLOB_TOO_LARGE',
  'BLOB_QUOTA_EXCEEDED',
  'BLOB_NOT_FOUND',
  'TOO_MANY_TRANSFERS',
  'RELAY_BUSY',
  'STORAGE_FULL',
  'INTERNAL',
] as const;

export type HttpErrorCode = (typeof HTTP_ERROR_CODES)[number];

/** The body of an HTTP error answer. */
export interface HttpError {
  readonly code: HttpErrorCode;
  readonly message: string;
  readonly retryAfterMs?: number;
}
