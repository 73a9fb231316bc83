import { z } from 'zod';

/** Mirrors relay/protocol's USERNAME_PATTERN; shared may not import the relay's limits at runtime in the renderer. */
export const Username = z
  .string()
  .trim()
  .toLowerCase()
  .regex(/^[a-z0-9][a-z0-9._-]{2,31}$/, 'Usernames are 3-32 characters: a-z, 0-9, ".", "_" and "-", starting with a letter or digit');

export const Passphrase = z.string().min(8, 'Passphrases are at least 8 characters').max(1024);

export const RelayUrl = z
  .string()
  .trim()
  .url()
  .refine((url) => /^wss?:\/\//.test(url), 'The relay URL starts with ws:// or wss://');

/** Longest message text, in characters; the sealed envelope must fit the relay's envelope limit. */
export const MAX_MESSAGE_CHARS = 16_000;
export const MessageText = z.string().min(1, 'A message cannot be empty').max(MAX_MESSAGE_CHARS);

export const ProfileStatus = z.object({
  state: z.enum(['none', 'locked', 'unlocked']),
  username: z.string().optional(),
  relayUrl: z.string().optional(),
  /** unlocked, and the recovery key shown at setup has not been retyped yet */
  recoveryKeyPending: z.boolean().optional(),
  /** locked, and this computer's keychain can unlock it */
  autoUnlock: z.boolean().optional(),
});
export type ProfileStatus = z.infer<typeof ProfileStatus>;

export const ProfileInfo = z.object({ username: z.string(), relayUrl: z.string() });
export type ProfileInfo = z.infer<typeof ProfileInfo>;

export const Contact = z.object({
  username: z.string(),
  /** Hex of the contact's Ed25519 identity key, for display and later verification. */
  identityKey: z.string(),
  addedAt: z.number(),
  /** Safety numbers compared and marked verified. */
  verified: z.boolean().optional(),
  /** The identity key changed; sending is held until the user acknowledges it. */
  identityChanged: z.boolean().optional(),
});
export type Contact = z.infer<typeof Contact>;

/** Outgoing: pending -> sent (the relay holds it) -> delivered (the recipient's device stored it), or failed. Incoming: received. */
export const MessageStatus = z.enum(['pending', 'sent', 'received', 'failed', 'delivered']);
export type MessageStatus = z.infer<typeof MessageStatus>;

export const Message = z.object({
  /** 32 hex characters, the id both sides and the relay share. */
  id: z.string(),
  contact: z.string(),
  direction: z.enum(['out', 'in']),
  text: z.string(),
  sentAt: z.number(),
  status: MessageStatus,
  /** Absent or 'text': a message; 'undecryptable': a placeholder for one that failed (errorCode says why); 'notice': from Parley itself. */
  kind: z.enum(['text', 'undecryptable', 'notice']).optional(),
  errorCode: z.string().optional(),
});
export type Message = z.infer<typeof Message>;

export const SafetyNumber = z.object({
  contact: z.string(),
  /** 60 digits, the same on both sides; shown in twelve groups of five. */
  digits: z.string().regex(/^\d{60}$/),
  /** What the QR code encodes; pasting the other side's scanned payload compares it. */
  payload: z.string(),
  /** The QR code as an SVG document, made in core (the renderer needs no Node for it). */
  qrSvg: z.string(),
  verified: z.boolean(),
  identityChanged: z.boolean(),
});
export type SafetyNumber = z.infer<typeof SafetyNumber>;

export const ConnectionState = z.object({
  state: z.enum(['offline', 'connecting', 'online']),
  error: z.object({ code: z.string(), message: z.string() }).optional(),
});
export type ConnectionState = z.infer<typeof ConnectionState>;

/** The recovery key as shown once at setup: 32 letters and digits in groups of four. */
export const RecoveryKeyText = z.string().trim().min(1, 'Type the recovery key').max(100);

export const CreatedProfile = ProfileInfo.extend({ recoveryKey: z.string() });
export type CreatedProfile = z.infer<typeof CreatedProfile>;

export const VaultSettings = z.object({
  /** lock after this many idle minutes; 0 never */
  autoLockMinutes: z.number().int().min(0).max(1440),
  keychain: z.object({ available: z.boolean(), reason: z.string().optional(), enabled: z.boolean() }),
  /** false for profiles from before recovery keys existed, until the user makes one */
  hasRecoveryKey: z.boolean(),
});
export type VaultSettings = z.infer<typeof VaultSettings>;

export const SearchHit = z.object({ message: Message, snippet: z.string() });
export type SearchHit = z.infer<typeof SearchHit>;

/** A registration lock code as an authenticator app shows it. */
export const RegistrationLockCode = z.string().regex(/^\d{6}$/, 'Enter the 6-digit code from your authenticator app');

/** Whether this profile turned the registration lock on (kept by the profile; the relay does not say). */
export const RegistrationLockStatus = z.object({ enabled: z.boolean() });
export type RegistrationLockStatus = z.infer<typeof RegistrationLockStatus>;

/** A new TOTP secret from the relay, not active until a code for it is confirmed. */
export const RegistrationLockSetup = z.object({
  /** the otpauth:// URI the QR code encodes */
  uri: z.string(),
  /** base32, for typing into an authenticator app by hand */
  secret: z.string(),
  /** the QR code as an SVG document, made in core */
  qrSvg: z.string(),
});
export type RegistrationLockSetup = z.infer<typeof RegistrationLockSetup>;
