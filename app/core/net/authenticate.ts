import { authTranscript } from '../../../relay/protocol/index.js';
import type { IdentityKeyPair } from '../crypto/identity.js';
import type { Sodium } from '../crypto/sodium.js';
import { relayFailure } from './errors.js';
import type { Authenticator } from './relay-client.js';

/** Time the relay has to answer REGISTER or AUTH, in ms. */
const AUTH_REPLY_TIMEOUT_MS = 10_000;

/** REGISTER: bind the username to our keys (a repeat with the same identity key is a login). */
export function registerAuthenticator(sodium: Sodium, identity: IdentityKeyPair, username: string): Authenticator {
  return async (session) => {
    const signature = identity.sign(sodium, authTranscript(username, session.challenge.nonce, identity.identityKey));
    try {
      await session.request(
        {
          name: 'REGISTER',
          username,
          identityKey: identity.identityKey,
          agreementKey: identity.agreementKey,
          agreementSig: identity.agreementSig,
          signature,
        },
        AUTH_REPLY_TIMEOUT_MS,
      );
    } catch (error) {
      throw relayFailure(error, { USERNAME_TAKEN: 'RELAY_USERNAME_TAKEN', USERNAME_INVALID: 'RELAY_REJECTED', AUTH_FAILED: 'RELAY_REJECTED' });
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
