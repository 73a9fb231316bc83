import {
  decodeOneTimePrekeys,
  decodePqPrekeys,
  encodeOneTimePrekeys,
  MAX_PREKEYS_PER_FRAME,
  MAX_STORED_ONE_TIME_PREKEYS,
  PREKEY_LOW_WATERMARK,
  pqPrekeyTranscript,
  signedPrekeyTranscript,
  type FrameOf,
} from '../../protocol/index.js';
import { errorFrame, okFrame } from '../replies.js';
import type { RelayStore } from '../store/ports.js';
import type { PrekeyCounts } from '../store/prekeys.js';
import { verifyEd25519 } from '../verify.js';

type Reply = FrameOf<'OK'> | FrameOf<'ERROR'>;

function identityOf(store: RelayStore, username: string): Uint8Array | undefined {
  return store.users.find(username)?.identityKey;
}

/** Replace the owner's signed prekey after checking its identity key signed it. */
export function handlePublishSignedPrekey(frame: FrameOf<'PUBLISH_SIGNED_PREKEY'>, username: string, store: RelayStore, now: number): Reply {
  const identityKey = identityOf(store, username);
  if (identityKey === undefined || !verifyEd25519(identityKey, signedPrekeyTranscript(frame.keyId, frame.publicKey), frame.signature)) {
    return errorFrame(frame.requestId, 'PREKEY_BAD_SIGNATURE', 'the signed prekey is not signed by this identity key');
  }
  store.prekeys.setSignedPrekey(username, { keyId: frame.keyId, publicKey: frame.publicKey, signature: frame.signature }, now);
  return okFrame(frame.requestId);
}

export function handlePublishOneTimePrekeys(frame: FrameOf<'PUBLISH_ONE_TIME_PREKEYS'>, username: string, store: RelayStore): Reply {
  const entries = decodeOneTimePrekeys(frame.prekeys);
  if (entries === undefined || entries.length === 0) return errorFrame(frame.requestId, 'PREKEYS_MALFORMED', 'prekeys must be n * (u32 keyId | 32-byte key)');
  if (entries.length > MAX_PREKEYS_PER_FRAME) return errorFrame(frame.requestId, 'PREKEYS_TOO_MANY', `at most ${MAX_PREKEYS_PER_FRAME} prekeys per frame`);
  if (!store.prekeys.addOneTimePrekeys(username, entries, MAX_STORED_ONE_TIME_PREKEYS)) {
    return errorFrame(frame.requestId, 'PREKEYS_TOO_MANY', `at most ${MAX_STORED_ONE_TIME_PREKEYS} one-time prekeys are stored`);
  }
  return okFrame(frame.requestId);
}

export function handlePublishPqPrekeys(frame: FrameOf<'PUBLISH_PQ_PREKEYS'>, username: string, store: RelayStore): Reply {
  const entries = decodePqPrekeys(frame.prekeys);
  if (entries === undefined || entries.length === 0 || entries.filter((entry) => entry.lastResort).length > 1) {
    return errorFrame(frame.requestId, 'PREKEYS_MALFORMED', 'prekeys must be n * (u32 keyId | u8 lastResort | key | signature), at most one last-resort');
  }
  if (entries.length > MAX_PREKEYS_PER_FRAME) return errorFrame(frame.requestId, 'PREKEYS_TOO_MANY', `at most ${MAX_PREKEYS_PER_FRAME} prekeys per frame`);
  const identityKey = identityOf(store, username);
  const forged = entries.some((entry) => identityKey === undefined || !verifyEd25519(identityKey, pqPrekeyTranscript(entry.keyId, entry.lastResort, entry.publicKey), entry.signature));
  if (forged) return errorFrame(frame.requestId, 'PREKEY_BAD_SIGNATURE', 'a post-quantum prekey is not signed by this identity key');
  if (!store.prekeys.addPqPrekeys(username, entries, MAX_STORED_ONE_TIME_PREKEYS)) {
    return errorFrame(frame.requestId, 'PREKEYS_TOO_MANY', `at most ${MAX_STORED_ONE_TIME_PREKEYS} one-time prekeys are stored`);
  }
  return okFrame(frame.requestId);
}

/** The owner's PREKEYS_LOW notice, when either stock is below the watermark. */
export function lowStockNotice(counts: PrekeyCounts): FrameOf<'PREKEYS_LOW'> | undefined {
  if (!counts.published || (counts.oneTime >= PREKEY_LOW_WATERMARK && counts.pqOneTime >= PREKEY_LOW_WATERMARK)) return undefined;
  return { name: 'PREKEYS_LOW', requestId: 0, oneTimeCount: counts.oneTime, pqOneTimeCount: counts.pqOneTime };
}

export interface FetchOutcome {
  readonly reply: FrameOf<'PREKEY_BUNDLE'> | FrameOf<'ERROR'>;
  /** A notice for the owner of the keys, whose stock this fetch brought low. */
  readonly notify?: { readonly to: string; readonly frame: FrameOf<'PREKEYS_LOW'> };
}

/** Hand out a bundle; each one-time key leaves the store as it is handed out. */
export function handleFetchPrekeys(frame: FrameOf<'FETCH_PREKEYS'>, store: RelayStore): FetchOutcome {
  const user = store.users.find(frame.username);
  if (user === undefined) return { reply: errorFrame(frame.requestId, 'USER_NOT_FOUND', 'no such user') };
  const taken = store.prekeys.takeBundle(user.username);
  if (taken === undefined) return { reply: errorFrame(frame.requestId, 'PREKEYS_UNAVAILABLE', 'this user has not published prekeys') };
  const notice = lowStockNotice(store.prekeys.counts(user.username));
  return {
    reply: {
      name: 'PREKEY_BUNDLE',
      requestId: frame.requestId,
      username: user.username,
      identityKey: user.identityKey,
      agreementKey: user.agreementKey,
      agreementSig: user.agreementSig,
      signedPrekeyId: taken.signedPrekey.keyId,
      signedPrekey: taken.signedPrekey.publicKey,
      signedPrekeySig: taken.signedPrekey.signature,
      pqPrekeyId: taken.pqPrekey.keyId,
      pqLastResort: taken.pqPrekey.lastResort ? 1 : 0,
      pqPrekey: taken.pqPrekey.publicKey,
      pqPrekeySig: taken.pqPrekey.signature,
      oneTimePrekey: taken.oneTimePrekey === undefined ? new Uint8Array() : encodeOneTimePrekeys([taken.oneTimePrekey]),
    },
    ...(notice === undefined ? {} : { notify: { to: user.username, frame: notice } }),
  };
}
