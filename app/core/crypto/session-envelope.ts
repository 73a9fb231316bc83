import { z } from 'zod';
import { KEY_BYTES } from '../../../relay/protocol/index.js';
import { concatBytes, utf8 } from './bytes.js';
import { MESSAGE_PAYLOAD_FIELDS } from './envelope.js';
import type { IdentityKeyPair } from './identity.js';
import { decodeInitialHeader, encodeInitialHeader, INITIAL_HEADER_BYTES } from './initial-header-codec.js';
import { pad } from './padding.js';
import type { InitialHeader } from './pqxdh.js';
import type { Sodium } from './sodium.js';

/**
 * Envelope v2: a Double Ratchet message, sealed so that the relay sees neither sender nor size.
 *   inner     = u8 2 | u8 kind (1: with PQXDH initial header, 2: without) | sender identity key (32)
 *               | initial header (kind 1 only) | ratchet message (header || XChaCha20-Poly1305 ciphertext)
 *   plaintext = u32 len(inner) | inner, zero-padded to a size bucket
 *   envelope  = crypto_box_seal(plaintext, recipient agreement key)
 * The ratchet's associated data binds both identity keys, so only the session's peer can write a
 * message that decrypts: the sender is authenticated inside the ciphertext.
 */
export const SESSION_ENVELOPE_VERSION = 2;

export interface SessionEnvelope {
  readonly senderIdentityKey: Uint8Array;
  readonly initialHeader: InitialHeader | null;
  readonly ratchetMessage: Uint8Array;
}

/** What the ratchet encrypts: who wrote it, to whom, and the text. */
export const SessionPayload = z.object({ v: z.literal(2), ...MESSAGE_PAYLOAD_FIELDS }).strict();
export type SessionPayload = z.infer<typeof SessionPayload>;

export function encodePayload(payload: SessionPayload): Uint8Array {
  return utf8.encode(JSON.stringify(SessionPayload.parse(payload)));
}

export function decodePayload(bytes: Uint8Array): SessionPayload | undefined {
  try {
    const parsed = SessionPayload.safeParse(JSON.parse(utf8.decode(bytes)));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

const LENGTH_BYTES = 4;
const PREFIX_BYTES = 2 + KEY_BYTES;

/** Seal; MESSAGE_TOO_LARGE beyond the largest bucket. */
export function sealSessionEnvelope(sodium: Sodium, recipientAgreementKey: Uint8Array, envelope: SessionEnvelope): Uint8Array {
  const kind = envelope.initialHeader === null ? 2 : 1;
  const inner = concatBytes([
    Uint8Array.of(SESSION_ENVELOPE_VERSION, kind),
    envelope.senderIdentityKey,
    envelope.initialHeader === null ? new Uint8Array(0) : encodeInitialHeader(envelope.initialHeader),
    envelope.ratchetMessage,
  ]);
  const length = new Uint8Array(LENGTH_BYTES);
  new DataView(length.buffer).setUint32(0, inner.length);
  return sodium.crypto_box_seal(pad(concatBytes([length, inner])), recipientAgreementKey);
}

/** Open the outer seal and split the parts; undefined for anything that is not a v2 envelope to us. */
export function openSessionEnvelope(sodium: Sodium, self: IdentityKeyPair, sealed: Uint8Array): SessionEnvelope | undefined {
  let plaintext: Uint8Array;
  try {
    plaintext = self.unseal(sodium, sealed);
  } catch {
    return undefined;
  }
  if (plaintext.length < LENGTH_BYTES + PREFIX_BYTES) return undefined;
  const innerLength = new DataView(plaintext.buffer, plaintext.byteOffset, plaintext.byteLength).getUint32(0);
  if (innerLength < PREFIX_BYTES || LENGTH_BYTES + innerLength > plaintext.length) return undefined;
  if (plaintext.subarray(LENGTH_BYTES + innerLength).some((byte) => byte !== 0)) return undefined;
  const inner = plaintext.subarray(LENGTH_BYTES, LENGTH_BYTES + innerLength);
  const [version, kind] = [inner[0], inner[1]];
  if (version !== SESSION_ENVELOPE_VERSION || (kind !== 1 && kind !== 2)) return undefined;
  const senderIdentityKey = inner.slice(2, PREFIX_BYTES);
  if (kind === 2) return { senderIdentityKey, initialHeader: null, ratchetMessage: inner.slice(PREFIX_BYTES) };
  const initialHeader = decodeInitialHeader(inner.subarray(PREFIX_BYTES, PREFIX_BYTES + INITIAL_HEADER_BYTES));
  if (initialHeader === undefined) return undefined;
  return { senderIdentityKey, initialHeader, ratchetMessage: inner.slice(PREFIX_BYTES + INITIAL_HEADER_BYTES) };
}
