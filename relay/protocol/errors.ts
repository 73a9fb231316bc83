/** Stable error codes carried by ERROR frames. Never renumber or rename: clients match on them. */
export const WIRE_ERROR_CODES = [
  'PROTO_MALFORMED_FRAME',
  'PROTO_FRAME_TOO_LARGE',
  'PROTO_UNSUPPORTED_VERSION',
  'PROTO_UNKNOWN_TYPE',
  'PROTO_UNEXPECTED_FRAME',
  'AUTH_REQUIRED',
  'AUTH_FAILED',
  'AUTH_ALREADY',
  'USERNAME_INVALID',
  'USERNAME_TAKEN',
  'USER_NOT_FOUND',
  'ENVELOPE_TOO_LARGE',
  'QUEUE_FULL',
  'INTERNAL',
  'PREKEY_BAD_SIGNATURE',
  'PREKEYS_MALFORMED',
  'PREKEYS_TOO_MANY',
  'PREKEYS_UNAVAILABLE',
  'RATE_LIMITED',
  'TOO_MANY_CONNECTIONS',
  'TTL_INVALID',
  'USERNAME_RESERVED',
  'AUTH_BANNED',
  'INVITE_REQUIRED',
  'INVITE_INVALID',
  'TOKEN_MISSING',
  'TOKEN_INVALID',
  'TOKEN_EXPIRED',
  'TOKEN_AUDIENCE',
  'TOKEN_TYPE',
  'TOTP_INVALID',
  'TOTP_NOT_PENDING',
  'TOTP_NOT_ENABLED',
  'STORAGE_FULL',
] as const;

export type WireErrorCode = (typeof WIRE_ERROR_CODES)[number];

export function isWireErrorCode(code: string): code is WireErrorCode {
  return (WIRE_ERROR_CODES as readonly string[]).includes(code);
}

/** Thrown by the codec on bytes that are not a valid frame. */
export class FrameError extends Error {
  constructor(
    readonly code: Extract<WireErrorCode, `PROTO_${string}`>,
    message: string,
  ) {
    super(message);
    this.name = 'FrameError';
  }
}
