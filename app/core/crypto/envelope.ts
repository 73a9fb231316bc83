import { z } from 'zod';
import { ParleyError } from '../../shared/errors.js';
import { KEY_BYTES, SIGNATURE_BYTES, USERNAME_PATTERN } from '../../../relay/protocol/index.js';
import { concatBytes, utf8 } from './bytes.js';
import type { IdentityKeyPair } from './identity.js';
import { pad } from './padding.js';
import type { Sodium } from './sodium.js';

/**
 * Envelope v1: sealed-sender, signed, padded.
 *   payload   = UTF-8 JSON {v:1, id, from, to, sentAt, text}
 *   signature = Ed25519(sender identity, "parley-envelope-v1" || recipient agreement key || payload)
 *   plaintext = u32 payloadLength || payload || signature || sender identity key, zero-padded to a bucket
 *   envelope  = crypto_box_seal(plaintext, recipient agreement key)
 */
/** The fields every envelope version carries inside its ciphertext: who wrote what, to whom, when. */
export const MESSAGE_PAYLOAD_FIELDS = {
  id: z.string().regex(/^[0-9a-f]{32}$/),
  from: z.string().regex(USERNAME_PATTERN),
  to: z.string().regex(USERNAME_PATTERN),
  sentAt: z.number().int().nonnegative(),
  text: z.string(),
};

export const EnvelopePayload = z.object({ v: z.literal(1), ...MESSAGE_PAYLOAD_FIELDS }).strict();
export type EnvelopePayload = z.infer<typeof EnvelopePayload>;

export interface OpenedEnvelope {
  payload: EnvelopePayload;
  /** The Ed25519 key that signed the payload; the caller checks it belongs to payload.from. */
  senderIdentityKey: Uint8Array;
}

const SIGNATURE_CONTEXT = utf8.encode('parley-envelope-v1');
const LENGTH_BYTES = 4;

function signedBytes(recipientAgreementKey: Uint8Array, payload: Uint8Array): Uint8Array {
  return concatBytes([SIGNATURE_CONTEXT, recipientAgreementKey, payload]);
}

export function sealEnvelope(sodium: Sodium, sender: IdentityKeyPair, recipientAgreementKey: Uint8Array, payload: EnvelopePayload): Uint8Array {
  const payloadBytes = utf8.encode(JSON.stringify(EnvelopePayload.parse(payload)));
  const signature = sender.sign(sodium, signedBytes(recipientAgreementKey, payloadBytes));
  const length = new Uint8Array(LENGTH_BYTES);
  new DataView(length.buffer).setUint32(0, payloadBytes.length);
  const plaintext = pad(concatBytes([length, payloadBytes, signature, sender.identityKey]));
  return sodium.crypto_box_seal(plaintext, recipientAgreementKey);
}

const malformed = (): ParleyError => new ParleyError('DECRYPT_FAILED', 'The envelope could not be opened');

function parsePayload(bytes: Uint8Array): EnvelopePayload {
  let json: unknown;
  try {
    json = JSON.parse(utf8.decode(bytes));
  } catch {
    throw malformed();
  }
  const parsed = EnvelopePayload.safeParse(json);
  if (!parsed.success) throw malformed();
  return parsed.data;
}

/** Open and verify an envelope addressed to `recipient`; throws DECRYPT_FAILED or DECRYPT_BAD_SIGNATURE. */
export function openEnvelope(sodium: Sodium, recipient: IdentityKeyPair, sealed: Uint8Array): OpenedEnvelope {
  let plaintext: Uint8Array;
  try {
    plaintext = recipient.unseal(sodium, sealed);
  } catch {
    throw malformed();
  }
  if (plaintext.length < LENGTH_BYTES) throw malformed();
  const payloadLength = new DataView(plaintext.buffer, plaintext.byteOffset, plaintext.byteLength).getUint32(0);
  const payloadEnd = LENGTH_BYTES + payloadLength;
  const end = payloadEnd + SIGNATURE_BYTES + KEY_BYTES;
  if (end > plaintext.length) throw malformed();
  if (plaintext.subarray(end).some((byte) => byte !== 0)) throw malformed();

  const payloadBytes = plaintext.slice(LENGTH_BYTES, payloadEnd);
  const signature = plaintext.slice(payloadEnd, payloadEnd + SIGNATURE_BYTES);
  const senderIdentityKey = plaintext.slice(payloadEnd + SIGNATURE_BYTES, end);
  let valid = false;
  try {
    valid = sodium.crypto_sign_verify_detached(signature, signedBytes(recipient.agreementKey, payloadBytes), senderIdentityKey);
  } catch {
    valid = false;
  }
  if (!valid) throw new ParleyError('DECRYPT_BAD_SIGNATURE', 'The envelope signature does not verify');
  return { payload: parsePayload(payloadBytes), senderIdentityKey };
}
