import { agreementKeyTranscript, authTranscript, type FrameOf, type WireErrorCode } from '../../protocol/index.js';
import { missingCaseError } from '../missing-case.js';
import type { RegistrationMode } from '../options.js';
import { errorFrame } from '../replies.js';
import type { InviteRefusal, RelayStore } from '../store/ports.js';
import { usernameProblem, usernameSkeleton } from '../usernames.js';
import type { TokenService } from '../tokens.js';
import { acceptCode } from './totp.js';
import { sameBytes, verifyEd25519 } from '../verify.js';

/** The result of a REGISTER or AUTH: who the connection now speaks for, or the ERROR to answer with. */
export type AuthOutcome = { readonly ok: true; readonly username: string } | { readonly ok: false; readonly error: FrameOf<'ERROR'> };

export type RegisterFrame = FrameOf<'REGISTER'> | FrameOf<'REGISTER_INVITE'>;

function refused(frame: { requestId: number }, code: WireErrorCode, message: string): AuthOutcome {
  return { ok: false, error: errorFrame(frame.requestId, code, message) };
}

function banned(frame: { requestId: number }): AuthOutcome {
  return refused(frame, 'AUTH_BANNED', "this account has been banned by the relay's operator");
}

function inviteMessage(refusal: InviteRefusal): string {
  switch (refusal) {
    case 'unknown':
      return 'no such invite code';
    case 'expired':
      return 'this invite code has expired';
    case 'used-up':
      return 'this invite code has been used up';
    case 'revoked':
      return 'this invite code was revoked';
    default:
      throw missingCaseError(refusal);
  }
}

/** Bind a new username to the frame's keys; the same username with the same identity key is a login. */
export function handleRegister(frame: RegisterFrame, nonce: Uint8Array, store: RelayStore, registration: RegistrationMode, now: number): AuthOutcome {
  const { users, invites } = store;
  if (!verifyEd25519(frame.identityKey, agreementKeyTranscript(frame.agreementKey), frame.agreementSig)) {
    return refused(frame, 'AUTH_FAILED', 'agreementSig does not verify under identityKey');
  }
  if (!verifyEd25519(frame.identityKey, authTranscript(frame.username, nonce, frame.identityKey), frame.signature)) {
    return refused(frame, 'AUTH_FAILED', 'signature does not answer the challenge');
  }
  const existing = users.find(frame.username);
  if (existing !== undefined) {
    if (!sameBytes(existing.identityKey, frame.identityKey)) return refused(frame, 'USERNAME_TAKEN', 'this username belongs to another identity key');
    if (users.bannedAt(frame.username) !== undefined) return banned(frame);
    return { ok: true, username: frame.username };
  }
  const problem = usernameProblem(frame.username);
  if (problem === 'invalid') {
    return refused(frame, 'USERNAME_INVALID', 'usernames are 3 to 32 of a-z 0-9 . _ - and start with a letter or digit');
  }
  if (problem === 'reserved') return refused(frame, 'USERNAME_RESERVED', 'this username is reserved');
  const skeleton = usernameSkeleton(frame.username);
  if (users.takenBySkeleton(skeleton) !== undefined) {
    return refused(frame, 'USERNAME_TAKEN', 'this username is too like one already registered');
  }
  if (registration === 'invite') {
    if (frame.name !== 'REGISTER_INVITE') return refused(frame, 'INVITE_REQUIRED', 'this relay registers new users by invitation only');
    const refusal = invites.redeem(frame.invite, now);
    if (refusal !== undefined) return refused(frame, 'INVITE_INVALID', inviteMessage(refusal));
  }
  users.create(
    { username: frame.username, identityKey: frame.identityKey, agreementKey: frame.agreementKey, agreementSig: frame.agreementSig, registeredAt: now },
    skeleton,
  );
  return { ok: true, username: frame.username };
}

/** Log in as an existing user by signing the connection's challenge. */
export function handleAuth(frame: FrameOf<'AUTH'>, nonce: Uint8Array, store: RelayStore): AuthOutcome {
  const user = store.users.find(frame.username);
  // One answer for both cases, so AUTH cannot be used to probe which usernames exist.
  if (user === undefined || !verifyEd25519(user.identityKey, authTranscript(user.username, nonce, user.identityKey), frame.signature)) {
    return refused(frame, 'AUTH_FAILED', 'unknown user or bad signature');
  }
  if (store.users.bannedAt(user.username) !== undefined) return banned(frame);
  return { ok: true, username: user.username };
}

/** Log in with an access token from an earlier connection instead of a signature. */
export async function handleResume(frame: FrameOf<'RESUME'>, tokens: TokenService, store: RelayStore): Promise<AuthOutcome> {
  const check = await tokens.verify(frame.token);
  if (!check.ok) return refused(frame, check.code, check.message);
  // A user deleted since the token was issued is gone; a banned one is refused.
  if (store.users.find(check.username) === undefined) return refused(frame, 'TOKEN_INVALID', 'the token is for an unknown user');
  if (store.users.bannedAt(check.username) !== undefined) return banned(frame);
  return { ok: true, username: check.username };
}

/** Re-bind a locked username to new keys (a reinstall, a new machine): the challenge signed by the new key, and a current code of the lock. */
export function handleRegisterLocked(frame: FrameOf<'REGISTER_LOCKED'>, nonce: Uint8Array, store: RelayStore, now: number): AuthOutcome {
  if (!verifyEd25519(frame.identityKey, agreementKeyTranscript(frame.agreementKey), frame.agreementSig)) {
    return refused(frame, 'AUTH_FAILED', 'agreementSig does not verify under identityKey');
  }
  if (!verifyEd25519(frame.identityKey, authTranscript(frame.username, nonce, frame.identityKey), frame.signature)) {
    return refused(frame, 'AUTH_FAILED', 'signature does not answer the challenge');
  }
  const user = store.users.find(frame.username);
  const lock = user === undefined ? undefined : store.locks.get(user.username);
  if (user === undefined || lock?.secret == null) return refused(frame, 'TOTP_NOT_ENABLED', 'this username has no registration lock');
  if (store.users.bannedAt(user.username) !== undefined) return banned(frame);
  const step = acceptCode(user.username, lock.secret, frame.code, lock.lastStep, now);
  if (step === undefined) return refused(frame, 'TOTP_INVALID', 'wrong or expired code');
  store.locks.used(user.username, step);
  store.locks.rebind({ ...user, identityKey: frame.identityKey, agreementKey: frame.agreementKey, agreementSig: frame.agreementSig });
  return { ok: true, username: user.username };
}
