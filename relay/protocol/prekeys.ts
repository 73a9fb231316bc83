/** Sizes and signed transcripts of published prekeys, shared by the relay (which checks them) and clients. */
export const MLKEM768_PUBLIC_KEY_BYTES = 1184;
export const MLKEM768_CIPHERTEXT_BYTES = 1088;
/** Most one-time prekeys (of each kind) one PUBLISH_* frame may carry. */
export const MAX_PREKEYS_PER_FRAME = 100;
/** Most one-time prekeys (of each kind) the relay stores per user. */
export const MAX_STORED_ONE_TIME_PREKEYS = 500;
/** When a user's stock of either kind of one-time prekey falls below this, the relay sends PREKEYS_LOW. */
export const PREKEY_LOW_WATERMARK = 10;

const encoder = new TextEncoder();
const SIGNED_PREKEY_CONTEXT = encoder.encode('parley-signed-prekey-v1');
const PQ_PREKEY_CONTEXT = encoder.encode('parley-pq-prekey-v1');

function withId(context: Uint8Array, id: number, tail: readonly Uint8Array[]): Uint8Array {
  const length = context.length + 4 + tail.reduce((n, part) => n + part.length, 0);
  const out = new Uint8Array(length);
  out.set(context);
  new DataView(out.buffer).setUint32(context.length, id);
  let at = context.length + 4;
  for (const part of tail) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** What the identity key signs for a signed X25519 prekey: context | u32 id | publicKey. */
export function signedPrekeyTranscript(id: number, publicKey: Uint8Array): Uint8Array {
  return withId(SIGNED_PREKEY_CONTEXT, id, [publicKey]);
}

/** What the identity key signs for an ML-KEM-768 prekey: context | u32 id | u8 lastResort | publicKey. */
export function pqPrekeyTranscript(id: number, lastResort: boolean, publicKey: Uint8Array): Uint8Array {
  return withId(PQ_PREKEY_CONTEXT, id, [Uint8Array.of(lastResort ? 1 : 0), publicKey]);
}
