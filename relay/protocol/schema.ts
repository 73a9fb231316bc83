import { KEY_BYTES, MESSAGE_ID_BYTES, NONCE_BYTES, SIGNATURE_BYTES } from './limits.js';
import { MLKEM768_PUBLIC_KEY_BYTES } from './prekeys.js';

/**
 * The wire schema. Every frame is:
 *
 *   u8 version | u8 type | u32 requestId (big-endian) | fields, in the order listed below
 *
 * Field encodings (all integers big-endian):
 *   u32     4 bytes
 *   u53     8 bytes, an unsigned integer below 2^53 (timestamps in ms)
 *   string  u16 byte length, then UTF-8 (at most MAX_STRING_BYTES)
 *   bytes   u32 byte length, then the bytes (bounded by the frame size)
 *   fixed:N exactly N bytes, no length prefix
 *
 * requestId is chosen by the client for requests; a reply (OK, ERROR, USER) echoes it.
 * Frames the server sends unprompted (CHALLENGE, DELIVER, DRAINED) carry requestId 0.
 * A frame with bytes left over after its last field is malformed.
 */
export type FieldKind = 'u32' | 'u53' | 'string' | 'bytes' | { fixed: number };

/** REGISTER's fields, in wire order; REGISTER_INVITE and REGISTER_LOCKED carry them and then one more. */
const REGISTER_FIELDS = {
  username: 'string',
  identityKey: { fixed: KEY_BYTES },
  agreementKey: { fixed: KEY_BYTES },
  agreementSig: { fixed: SIGNATURE_BYTES },
  signature: { fixed: SIGNATURE_BYTES },
} as const;

export const FRAME_SCHEMA = {
  /** server -> client, on connect: sign this nonce to authenticate. */
  CHALLENGE: { type: 0x01, fields: { nonce: { fixed: NONCE_BYTES }, serverTime: 'u53' } },
  /** server -> client: the request with this id succeeded. */
  OK: { type: 0x02, fields: {} },
  /** server -> client (requestId 0): OK for several requests; requestIds = 2 or more u32 ids. */
  OKS: { type: 0x07, fields: { requestIds: 'bytes' } },
  /** server -> client: the request with this id (or 0: the connection) failed. */
  ERROR: { type: 0x03, fields: { code: 'string', message: 'string', retryAfterMs: 'u32' } },
  /** server -> client: reply to LOOKUP. */
  USER: {
    type: 0x04,
    fields: {
      username: 'string',
      identityKey: { fixed: KEY_BYTES },
      agreementKey: { fixed: KEY_BYTES },
      agreementSig: { fixed: SIGNATURE_BYTES },
    },
  },
  /** server -> client: an envelope for this user; answer with ACK once it is stored. */
  DELIVER: {
    type: 0x05,
    fields: { messageId: { fixed: MESSAGE_ID_BYTES }, envelope: 'bytes', receivedAt: 'u53' },
  },
  /** server -> client: every envelope queued when this connection authenticated has been sent (count of them). */
  DRAINED: { type: 0x06, fields: { count: 'u32' } },
  /** client -> server: bind a new username to these keys and authenticate. */
  REGISTER: { type: 0x10, fields: REGISTER_FIELDS },
  /** client -> server: authenticate as an existing username. */
  AUTH: { type: 0x11, fields: { username: 'string', signature: { fixed: SIGNATURE_BYTES } } },
  /** client -> server: fetch a user's public keys. */
  LOOKUP: { type: 0x12, fields: { username: 'string' } },
  /** client -> server: queue an envelope for a user. */
  SEND: {
    type: 0x13,
    fields: { to: 'string', messageId: { fixed: MESSAGE_ID_BYTES }, envelope: 'bytes' },
  },
  /** client -> server: the delivered envelope is stored; drop it from the queue. No reply. */
  ACK: { type: 0x14, fields: { messageId: { fixed: MESSAGE_ID_BYTES } } },
  /** client -> server: ACK of several envelopes or receipts; messageIds = 1 to MAX_ACKS_PER_FRAME ids of 16 bytes. No reply. */
  ACKS: { type: 0x15, fields: { messageIds: 'bytes' } },
  /** client -> server: SEND for a disappearing message; the relay drops it unread once ttlMs have passed since it arrived. */
  SEND_EXPIRING: {
    type: 0x30,
    fields: { to: 'string', messageId: { fixed: MESSAGE_ID_BYTES }, envelope: 'bytes', ttlMs: 'u32' },
  },
  /** client -> server: REGISTER on an invite-only relay, with an invite code from its operator. */
  REGISTER_INVITE: {
    type: 0x31,
    fields: {
      ...REGISTER_FIELDS,
      invite: 'string',
    },
  },
  /** client -> server, authenticated: ask for an access token (for RESUME and HTTP Bearer). Reply: TOKEN. */
  TOKEN_REQUEST: { type: 0x32, fields: {} },
  /** server -> client: reply to TOKEN_REQUEST; a JWT (EdDSA, typ at+jwt) and when it expires (ms since epoch). */
  TOKEN: { type: 0x33, fields: { token: 'string', expiresAt: 'u53' } },
  /** client -> server, instead of AUTH: authenticate with an unexpired access token. */
  RESUME: { type: 0x34, fields: { token: 'string' } },
  /** client -> server: SEND asking for a RECEIPT once the recipient acks; ttlMs 0 means no expiry, else as SEND_EXPIRING. */
  SEND_WITH_RECEIPT: {
    type: 0x35,
    fields: { to: 'string', messageId: { fixed: MESSAGE_ID_BYTES }, envelope: 'bytes', ttlMs: 'u32' },
  },
  /** server -> client: the recipient acknowledged the envelope this client sent with SEND_WITH_RECEIPT; answer with ACK. */
  RECEIPT: { type: 0x36, fields: { messageId: { fixed: MESSAGE_ID_BYTES }, ackedAt: 'u53' } },
  /** client -> server, authenticated: start turning on the registration lock. Reply: TOTP_SECRET. */
  TOTP_SETUP: { type: 0x37, fields: {} },
  /** server -> client: the new TOTP secret (base32) and its otpauth:// URI, for a QR code; not active until TOTP_ENABLE. */
  TOTP_SECRET: { type: 0x38, fields: { secret: 'string', uri: 'string' } },
  /** client -> server, authenticated: a current code for the secret from TOTP_SETUP turns the lock on. Reply: OK. */
  TOTP_ENABLE: { type: 0x39, fields: { code: 'string' } },
  /** client -> server, authenticated: a current code turns the lock off. Reply: OK. */
  TOTP_DISABLE: { type: 0x3a, fields: { code: 'string' } },
  /** client -> server: REGISTER that re-binds a locked username to new keys, with a current code of its lock. */
  REGISTER_LOCKED: {
    type: 0x3b,
    fields: {
      ...REGISTER_FIELDS,
      code: 'string',
    },
  },
  /** client -> server: replace this user's signed X25519 prekey (signature: see prekeys.ts). Reply OK. */
  PUBLISH_SIGNED_PREKEY: {
    type: 0x20,
    fields: { keyId: 'u32', publicKey: { fixed: KEY_BYTES }, signature: { fixed: SIGNATURE_BYTES } },
  },
  /** client -> server: add one-time X25519 prekeys; prekeys = n * (u32 keyId | 32-byte key). Reply OK. */
  PUBLISH_ONE_TIME_PREKEYS: { type: 0x21, fields: { prekeys: 'bytes' } },
  /**
   * client -> server: add signed ML-KEM-768 prekeys; prekeys = n * (u32 keyId | u8 lastResort | 1184-byte key | 64-byte signature).
   * A last-resort key replaces the previous last-resort key. Reply OK.
   */
  PUBLISH_PQ_PREKEYS: { type: 0x22, fields: { prekeys: 'bytes' } },
  /** client -> server: fetch a prekey bundle for a user (consumes one one-time key of each kind). Reply PREKEY_BUNDLE. */
  FETCH_PREKEYS: { type: 0x23, fields: { username: 'string' } },
  /** server -> client: reply to FETCH_PREKEYS. oneTimePrekey is empty or (u32 keyId | 32-byte key). pqLastResort is 0 or 1. */
  PREKEY_BUNDLE: {
    type: 0x24,
    fields: {
      username: 'string',
      identityKey: { fixed: KEY_BYTES },
      agreementKey: { fixed: KEY_BYTES },
      agreementSig: { fixed: SIGNATURE_BYTES },
      signedPrekeyId: 'u32',
      signedPrekey: { fixed: KEY_BYTES },
      signedPrekeySig: { fixed: SIGNATURE_BYTES },
      pqPrekeyId: 'u32',
      pqLastResort: 'u32',
      pqPrekey: { fixed: MLKEM768_PUBLIC_KEY_BYTES },
      pqPrekeySig: { fixed: SIGNATURE_BYTES },
      oneTimePrekey: 'bytes',
    },
  },
  /** server -> client (requestId 0): the owner's stock is low; how many one-time prekeys of each kind the relay holds. */
  PREKEYS_LOW: { type: 0x25, fields: { oneTimeCount: 'u32', pqOneTimeCount: 'u32' } },
} as const satisfies Record<string, { type: number; fields: Record<string, FieldKind> }>;

export type FrameName = keyof typeof FRAME_SCHEMA;

type FieldValue<K> = K extends 'u32' | 'u53' ? number : K extends 'string' ? string : Uint8Array;

type FieldsOf<N extends FrameName> = {
  -readonly [F in keyof (typeof FRAME_SCHEMA)[N]['fields']]: FieldValue<(typeof FRAME_SCHEMA)[N]['fields'][F]>;
};

/** A decoded frame: its name, request id and typed fields. */
export type Frame = { [N in FrameName]: { name: N; requestId: number } & FieldsOf<N> }[FrameName];

export type FrameOf<N extends FrameName> = Extract<Frame, { name: N }>;

/** Frames a client may send, and frames a server may send. */
export const CLIENT_FRAMES = ['REGISTER', 'AUTH', 'LOOKUP', 'SEND', 'ACK', 'ACKS', 'PUBLISH_SIGNED_PREKEY', 'PUBLISH_ONE_TIME_PREKEYS', 'PUBLISH_PQ_PREKEYS', 'FETCH_PREKEYS', 'SEND_EXPIRING', 'REGISTER_INVITE', 'TOKEN_REQUEST', 'RESUME', 'SEND_WITH_RECEIPT', 'TOTP_SETUP', 'TOTP_ENABLE', 'TOTP_DISABLE', 'REGISTER_LOCKED'] as const satisfies readonly FrameName[];
export const SERVER_FRAMES = ['CHALLENGE', 'OK', 'OKS', 'ERROR', 'USER', 'DELIVER', 'DRAINED', 'PREKEY_BUNDLE', 'PREKEYS_LOW', 'TOKEN', 'RECEIPT', 'TOTP_SECRET'] as const satisfies readonly FrameName[];
export type ClientFrame = FrameOf<(typeof CLIENT_FRAMES)[number]>;
export type ServerFrame = FrameOf<(typeof SERVER_FRAMES)[number]>;
