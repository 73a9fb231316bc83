/** Protocol version carried in the first byte of every frame. */
export const PROTOCOL_VERSION = 1;

/** Largest encoded frame either side accepts, in bytes (default 256 KiB). */
export const MAX_FRAME_BYTES = 256 * 1024;

/** Largest sealed envelope a SEND may carry, in bytes (default 64 KiB). */
export const MAX_ENVELOPE_BYTES = 64 * 1024;

/** Longest UTF-8 string field, in bytes. */
export const MAX_STRING_BYTES = 1024;

/** Byte lengths of fixed-size fields. */
export const KEY_BYTES = 32;
export const SIGNATURE_BYTES = 64;
export const NONCE_BYTES = 32;
export const MESSAGE_ID_BYTES = 16;

/** Most message ids one ACKS frame carries. */
export const MAX_ACKS_PER_FRAME = 256;

/** Usernames: 3 to 32 characters, lowercase letters, digits, '.', '_' and '-', starting with a letter or digit. */
export const USERNAME_PATTERN = /^[a-z0-9][a-z0-9._-]{2,31}$/;

export function isValidUsername(name: string): boolean {
  return USERNAME_PATTERN.test(name);
}
