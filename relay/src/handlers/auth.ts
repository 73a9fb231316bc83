import { agreementKeyTranscript, authTranscript, isValidUsername, type FrameOf, type WireErrorCode } from '../../protocol/index.js';
import { errorFrame } from '../replies.js';
import type { UserStore } from '../store/ports.js';
import { sameBytes, verifyEd25519 } from '../verify.js';

/** The result of a REGISTER or AUTH: who the connection now speaks for, or the ERROR to answer with. */
export type AuthOutcome = { readonly ok: true; readonly username: string } | { readonly ok: false; readonly error: FrameOf<'ERROR'> };

function refused(frame: FrameOf<'REGISTER'> | FrameOf<'AUTH'>, code: WireErrorCode, message: string): AuthOutcome {
  return { ok: false, error: errorFrame(frame.requestId, code, message) };
}

/** Bind a new username to the frame's keys; the same username with the same identity key is a login. */
export function handleRegister(frame: FrameOf<'REGISTER'>, nonce: Uint8Array, users: UserStore, now: number): AuthOutcome {
  if (!isValidUsername(frame.username)) {
    return refused(frame, 'USERNAME_INVALID', 'usernames are 3 to 32 of a-z 0-9 . _ - and start with a letter or digit');
  }
  if (!verifyEd25519(frame.identityKey, agreementKeyTranscript(frame.agreementKey), frame.agreementSig)) {
    return refused(frame, 'AUTH_FAILED', 'agreementSig does not verify under identityKey');
  }
  if (!verifyEd25519(frame.identityKey, authTranscript(frame.username, nonce, frame.identityKey), frame.signature)) {
    return refused(frame, 'AUTH_FAILED', 'signature does not answer the challenge');
  }
  const existing = users.find(frame.username);
  if (existing === undefined) {
    users.create({
      username: frame.username,
      identityKey: frame.identityKey,
      agreementKey: frame.agreementKey,
      agreementSig: frame.agreementSig,
      registeredAt: now,
    });
  } else if (!sameBytes(existing.identityKey, frame.identityKey)) {
    return refused(frame, 'USERNAME_TAKEN', 'this username belongs to another identity key');
  }
  return { ok: true, username: frame.username };
}

/** Log in as an existing user by signing the connection's challenge. */
export function handleAuth(frame: FrameOf<'AUTH'>, nonce: Uint8Array, users: UserStore): AuthOutcome {
  const user = users.find(frame.username);
  // One answer for both cases, so AUTH cannot be used to probe which usernames exist.
  if (user === undefined || !verifyEd25519(user.identityKey, authTranscript(user.username, nonce, user.identityKey), frame.signature)) {
    return refused(frame, 'AUTH_FAILED', 'unknown user or bad signature');
  }
  return { ok: true, username: user.username };
}
