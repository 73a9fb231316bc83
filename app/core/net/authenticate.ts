import { authTranscript, type WireErrorCode } from '../../../relay/protocol/index.js';
import type { ErrorCode } from '../../shared/errors.js';
import type { IdentityKeyPair } from '../crypto/identity.js';
import type { Sodium } from '../crypto/sodium.js';
import { relayFailure } from './errors.js';
import type { Authenticator } from './relay-client.js';

/** Time the relay has to answer REGISTER or AUTH, in ms. */
const AUTH_REPLY_TIMEOUT_MS = 10_000;

/** Wire refusals of a registration lock attempt, as app codes. */
export const REGISTRATION_LOCK_FAILURES = {
  TOTP_INVALID: 'REGLOCK_INVALID_CODE',
  TOTP_NOT_PENDING: 'REGLOCK_NOT_PENDING',
  TOTP_NOT_ENABLED: 'REGLOCK_NOT_ENABLED',
  RATE_LIMITED: 'RELAY_RATE_LIMITED',
} as const satisfies Partial<Record<WireErrorCode, ErrorCode>>;

/**
 * REGISTER: bind the username to our keys (a repeat with the same identity key is a login). With
 * `lockCode`, REGISTER_LOCKED: move a username under a registration lock to our keys (a reinstall).
 */
export function registerAuthenticator(sodium: Sodium, identity: IdentityKeyPair, username: string, lockCode?: string): Authenticator {
  return async (session) => {
    const signature = identity.sign(sodium, authTranscript(username, session.challenge.nonce, identity.identityKey));
    const fields = { username, identityKey: identity.identityKey, agreementKey: identity.agreementKey, agreementSig: identity.agreementSig, signature };
    try {
      await session.request(lockCode === undefined ? { name: 'REGISTER', ...fields } : { name: 'REGISTER_LOCKED', ...fields, code: lockCode }, AUTH_REPLY_TIMEOUT_MS);
    } catch (error) {
      throw relayFailure(error, {
        USERNAME_TAKEN: 'RELAY_USERNAME_TAKEN',
        USERNAME_INVALID: 'RELAY_REJECTED',
        AUTH_FAILED: 'RELAY_REJECTED',
        ...REGISTRATION_LOCK_FAILURES,
      });
    }
  };
}

/** AUTH: prove we hold the identity key registered for the username. */
export function authAuthenticator(sodium: Sodium, identity: IdentityKeyPair, username: string): Authenticator {
  return async (session) => {
    const signature = identity.sign(sodium, authTranscript(username, session.challenge.nonce, identity.identityKey));
    try {
      await session.request({ name: 'AUTH', username, signature }, AUTH_REPLY_TIMEOUT_MS);
    } catch (error) {
      throw relayFailure(error, { AUTH_FAILED: 'RELAY_REJECTED', USER_NOT_FOUND: 'RELAY_REJECTED' });
    }
  };
}
