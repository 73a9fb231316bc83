import { KEY_BYTES, MLKEM768_CIPHERTEXT_BYTES, SIGNATURE_BYTES } from '../../../relay/protocol/index.js';
import type { InitialHeader } from './pqxdh.js';

/** u32 value meaning "no one-time prekey was used". */
const NO_ONE_TIME_PREKEY = 0xffffffff;

/** identityKey | agreementKey | agreementSig | ephemeralKey | u32 spkId | u32 opkId | u32 pqId | kemCiphertext */
export const INITIAL_HEADER_BYTES = KEY_BYTES * 3 + SIGNATURE_BYTES + 12 + MLKEM768_CIPHERTEXT_BYTES;

export function encodeInitialHeader(header: InitialHeader): Uint8Array {
  const out = new Uint8Array(INITIAL_HEADER_BYTES);
  const view = new DataView(out.buffer);
  let at = 0;
  for (const part of [header.identityKey, header.agreementKey, header.agreementSig, header.ephemeralKey]) {
    out.set(part, at);
    at += part.length;
  }
  view.setUint32(at, header.signedPrekeyId);
  view.setUint32(at + 4, header.oneTimePrekeyId ?? NO_ONE_TIME_PREKEY);
  view.setUint32(at + 8, header.pqPrekeyId);
  out.set(header.kemCiphertext, at + 12);
  return out;
}

/** The header, or undefined when the bytes are not exactly one. */
export function decodeInitialHeader(bytes: Uint8Array): InitialHeader | undefined {
  if (bytes.length !== INITIAL_HEADER_BYTES) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const take = (from: number, length: number): Uint8Array => bytes.slice(from, from + length);
  const ids = KEY_BYTES * 3 + SIGNATURE_BYTES;
  const oneTime = view.getUint32(ids + 4);
  return {
    identityKey: take(0, KEY_BYTES),
    agreementKey: take(KEY_BYTES, KEY_BYTES),
    agreementSig: take(KEY_BYTES * 2, SIGNATURE_BYTES),
    ephemeralKey: take(KEY_BYTES * 2 + SIGNATURE_BYTES, KEY_BYTES),
    signedPrekeyId: view.getUint32(ids),
    oneTimePrekeyId: oneTime === NO_ONE_TIME_PREKEY ? null : oneTime,
    pqPrekeyId: view.getUint32(ids + 8),
    kemCiphertext: take(ids + 12, MLKEM768_CIPHERTEXT_BYTES),
  };
}
