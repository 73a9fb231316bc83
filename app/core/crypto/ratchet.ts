import { fail, ok, type Result } from '../../shared/result.js';
import type { ErrorCode } from '../../shared/errors.js';
import { AEAD_TAG_BYTES, xchachaDecrypt, xchachaEncrypt } from './aead.js';
import { concatBytes, equalBytes, toHex } from './bytes.js';
import { kdfCk, kdfRk, messageKeys } from './ratchet-kdf.js';
import { decodeHeader, encodeHeader, HEADER_BYTES, type RatchetHeader } from './ratchet-header.js';
import { MAX_SKIP, MAX_SKIPPED_KEYS, SKIPPED_KEY_TTL_MS, type RatchetState, type SkippedKey } from './ratchet-state.js';
import type { Sodium } from './sodium.js';
import { x25519, x25519Generate, type X25519KeyPair } from './x25519.js';

const MESSAGES: Record<Extract<ErrorCode, `DECRYPT_${string}` | 'SESSION_NOT_READY'>, string> = {
  DECRYPT_FAILED: 'The message does not authenticate',
  DECRYPT_BAD_SIGNATURE: 'The message signature does not verify',
  DECRYPT_DUPLICATE: 'The message was already received',
  DECRYPT_TOO_MANY_SKIPPED: 'The message is too far ahead of the session',
  DECRYPT_MALFORMED: 'The message is malformed',
  SESSION_NOT_READY: 'The session cannot send yet',
};
type RatchetError = keyof typeof MESSAGES;

const failWith = <T>(code: RatchetError): Result<T> => fail({ code, message: MESSAGES[code] });

/** Initiator side (after PQXDH): the responder's signed prekey is its first ratchet key. */
export function initInitiator(sodium: Sodium, sk: Uint8Array, remoteRatchetKey: Uint8Array, ad: Uint8Array): Result<RatchetState> {
  const dhs = x25519Generate(sodium);
  const dhOut = x25519(sodium, dhs.secretKey, remoteRatchetKey);
  if (dhOut === undefined) return failWith('DECRYPT_MALFORMED');
  const { rk, ck } = kdfRk(sodium, sk, dhOut);
  return ok({ v: 1, ad, dhs, dhr: remoteRatchetKey, rk, cks: ck, ckr: null, ns: 0, nr: 0, pn: 0, skipped: [] });
}

/** Responder side: its signed prekey pair is the first ratchet key; it cannot send until it receives. */
export function initResponder(sk: Uint8Array, signedPrekey: X25519KeyPair, ad: Uint8Array): RatchetState {
  return { v: 1, ad, dhs: signedPrekey, dhr: null, rk: sk, cks: null, ckr: null, ns: 0, nr: 0, pn: 0, skipped: [] };
}

/** Encrypt one message; returns the next state and `header || ciphertext`. */
export function ratchetEncrypt(sodium: Sodium, state: RatchetState, plaintext: Uint8Array): Result<{ state: RatchetState; message: Uint8Array }> {
  if (state.cks === null) return failWith('SESSION_NOT_READY');
  const { ck, mk } = kdfCk(sodium, state.cks);
  const header = encodeHeader({ dh: state.dhs.publicKey, pn: state.pn, n: state.ns });
  const { key, nonce } = messageKeys(sodium, mk);
  const ciphertext = xchachaEncrypt(sodium, key, nonce, plaintext, concatBytes([state.ad, header]));
  return ok({ state: { ...state, cks: ck, ns: state.ns + 1 }, message: concatBytes([header, ciphertext]) });
}

function open(sodium: Sodium, state: RatchetState, mk: Uint8Array, message: Uint8Array): Uint8Array | undefined {
  const { key, nonce } = messageKeys(sodium, mk);
  return xchachaDecrypt(sodium, key, nonce, message.subarray(HEADER_BYTES), concatBytes([state.ad, message.subarray(0, HEADER_BYTES)]));
}

/** Store the keys of messages [nr, until) of the current receiving chain as skipped. */
function skipTo(sodium: Sodium, state: RatchetState, until: number, now: number): Result<RatchetState> {
  if (state.ckr === null || state.dhr === null || until <= state.nr) return ok(state);
  if (until - state.nr > MAX_SKIP) return failWith('DECRYPT_TOO_MANY_SKIPPED');
  const dh = toHex(state.dhr);
  const added: SkippedKey[] = [];
  let ck = state.ckr;
  for (let n = state.nr; n < until; n += 1) {
    const step = kdfCk(sodium, ck);
    added.push({ dh, n, mk: step.mk, storedAt: now });
    ck = step.ck;
  }
  return ok({ ...state, ckr: ck, nr: until, skipped: [...state.skipped, ...added] });
}

/** Drop skipped keys that expired, then the oldest beyond the cap. */
function pruneSkipped(skipped: readonly SkippedKey[], now: number): readonly SkippedKey[] {
  const fresh = skipped.filter((entry) => now - entry.storedAt <= SKIPPED_KEY_TTL_MS);
  return fresh.length > MAX_SKIPPED_KEYS ? fresh.slice(fresh.length - MAX_SKIPPED_KEYS) : fresh;
}

function dhStep(sodium: Sodium, state: RatchetState, header: RatchetHeader): Result<RatchetState> {
  const received = x25519(sodium, state.dhs.secretKey, header.dh);
  if (received === undefined) return failWith('DECRYPT_MALFORMED');
  const recv = kdfRk(sodium, state.rk, received);
  const dhs = x25519Generate(sodium);
  const sent = x25519(sodium, dhs.secretKey, header.dh);
  if (sent === undefined) return failWith('DECRYPT_MALFORMED');
  const send = kdfRk(sodium, recv.rk, sent);
  return ok({ ...state, pn: state.ns, ns: 0, nr: 0, dhr: header.dh, dhs, rk: send.rk, ckr: recv.ck, cks: send.ck });
}

/**
 * Decrypt `header || ciphertext`. On success: the plaintext and the next state. On any failure:
 * a coded error, and the caller keeps the state it passed in (which this function never changes).
 */
export function ratchetDecrypt(sodium: Sodium, state: RatchetState, message: Uint8Array, now: number): Result<{ state: RatchetState; plaintext: Uint8Array }> {
  const header = decodeHeader(message);
  if (header === undefined || message.length < HEADER_BYTES + AEAD_TAG_BYTES) return failWith('DECRYPT_MALFORMED');

  const dh = toHex(header.dh);
  const skippedAt = state.skipped.findIndex((entry) => entry.dh === dh && entry.n === header.n);
  if (skippedAt >= 0) {
    const entry = state.skipped[skippedAt] as SkippedKey;
    const plaintext = open(sodium, state, entry.mk, message);
    if (plaintext === undefined) return failWith('DECRYPT_FAILED');
    return ok({ state: { ...state, skipped: state.skipped.filter((_, at) => at !== skippedAt) }, plaintext });
  }

  let next = state;
  if (state.dhr === null || !equalBytes(header.dh, state.dhr)) {
    const skipped = skipTo(sodium, next, header.pn, now);
    if (!skipped.ok) return skipped;
    const stepped = dhStep(sodium, skipped.value, header);
    if (!stepped.ok) return stepped;
    next = stepped.value;
  } else if (header.n < state.nr) {
    return failWith('DECRYPT_DUPLICATE');
  }
  if (next.ckr === null) return failWith('DECRYPT_MALFORMED');

  const skipped = skipTo(sodium, next, header.n, now);
  if (!skipped.ok) return skipped;
  next = skipped.value;
  if (next.ckr === null) return failWith('DECRYPT_MALFORMED');
  const { ck, mk } = kdfCk(sodium, next.ckr);
  const plaintext = open(sodium, next, mk, message);
  if (plaintext === undefined) return failWith('DECRYPT_FAILED');
  return ok({ state: { ...next, ckr: ck, nr: header.n + 1, skipped: pruneSkipped(next.skipped, now) }, plaintext });
}
