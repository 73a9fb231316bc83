import { KEY_BYTES } from './limits.js';

const encoder = new TextEncoder();
const AUTH_CONTEXT = encoder.encode('parley-relay-auth-v1');
const AGREEMENT_CONTEXT = encoder.encode('parley-agreement-key-v1');

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/**
 * The bytes a client signs with its Ed25519 identity key to answer a CHALLENGE (for AUTH and REGISTER):
 * context | u8 usernameLength | username | nonce | identityKey.
 * Binding the username and identity key stops a signature being replayed for another account.
 */
export function authTranscript(username: string, nonce: Uint8Array, identityKey: Uint8Array): Uint8Array {
  if (identityKey.length !== KEY_BYTES) throw new RangeError('identity key must be 32 bytes');
  const name = encoder.encode(username);
  return concat([AUTH_CONTEXT, Uint8Array.of(name.length), name, nonce, identityKey]);
}

/** The bytes an identity key signs to vouch for its X25519 agreement key (published in REGISTER, served in USER). */
export function agreementKeyTranscript(agreementKey: Uint8Array): Uint8Array {
  if (agreementKey.length !== KEY_BYTES) throw new RangeError('agreement key must be 32 bytes');
  return concat([AGREEMENT_CONTEXT, agreementKey]);
}
