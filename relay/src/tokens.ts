import { generateKeyPairSync, createPrivateKey, createPublicKey, randomUUID, type KeyObject } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SignJWT, errors, jwtVerify } from 'jose';

/** The relay's token signing key, PKCS#8 PEM, created on first start. It signs access tokens only. */
export const TOKEN_KEY_FILE = 'token-key.pem';
/** RFC 9068's media type for JWT access tokens, checked on every verification. */
export const ACCESS_TOKEN_TYP = 'at+jwt';
export const TOKEN_ISSUER = 'parley-relay';
/** The only algorithm accepted: anything else (none, HS256 with the public key, ...) is refused before any crypto. */
const ALGORITHMS = ['EdDSA'];

export type TokenErrorCode = 'TOKEN_MISSING' | 'TOKEN_INVALID' | 'TOKEN_EXPIRED' | 'TOKEN_AUDIENCE' | 'TOKEN_TYPE';

export type TokenCheck = { readonly ok: true; readonly username: string } | { readonly ok: false; readonly code: TokenErrorCode; readonly message: string };

export interface TokenKeys {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
}

/** Load the relay's Ed25519 token key from dataDir, creating it (mode 0600) on first use. */
export function loadTokenKeys(dataDir: string): TokenKeys {
  const path = join(dataDir, TOKEN_KEY_FILE);
  let pem: string;
  try {
    pem = readFileSync(path, 'utf8');
  } catch {
    pem = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    writeFileSync(path, pem, { mode: 0o600, flag: 'wx' });
  }
  const privateKey = createPrivateKey(pem);
  return { privateKey, publicKey: createPublicKey(privateKey) };
}

/** Map jose's failure to a stable code; the message is for logs and humans. */
function classify(error: unknown): TokenCheck {
  if (error instanceof errors.JWTExpired) return { ok: false, code: 'TOKEN_EXPIRED', message: 'the token has expired' };
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === 'aud') return { ok: false, code: 'TOKEN_AUDIENCE', message: 'the token is for another audience' };
    if (error.claim === 'typ') return { ok: false, code: 'TOKEN_TYPE', message: `the token is not of type ${ACCESS_TOKEN_TYP}` };
    return { ok: false, code: 'TOKEN_INVALID', message: `the token's ${error.claim} claim is not acceptable` };
  }
  return { ok: false, code: 'TOKEN_INVALID', message: 'the token is malformed or not signed by this relay' };
}

/** Issues and checks the relay's short-lived access tokens (JWT, EdDSA; aud, exp, nbf, typ checked). */
export class TokenService {
  constructor(
    private readonly keys: TokenKeys,
    private readonly audience: string,
    private readonly ttlMs: number,
    private readonly now: () => number,
  ) {}

  async issue(username: string): Promise<{ token: string; expiresAt: number }> {
    const now = this.now();
    const seconds = Math.floor(now / 1000);
    const expiresAt = (seconds + Math.ceil(this.ttlMs / 1000)) * 1000;
    const token = await new SignJWT({})
      .setProtectedHeader({ alg: 'EdDSA', typ: ACCESS_TOKEN_TYP })
      .setIssuer(TOKEN_ISSUER)
      .setAudience(this.audience)
      .setSubject(username)
      .setIssuedAt(seconds)
      .setNotBefore(seconds)
      .setExpirationTime(expiresAt / 1000)
      .setJti(randomUUID())
      .sign(this.keys.privateKey);
    return { token, expiresAt };
  }

  /** Who the token speaks for, or a stable code. Never throws. */
  async verify(token: string | undefined): Promise<TokenCheck> {
    if (token === undefined || token === '') return { ok: false, code: 'TOKEN_MISSING', message: 'no access token' };
    try {
      const { payload } = await jwtVerify(token, this.keys.publicKey, {
        algorithms: ALGORITHMS,
        audience: this.audience,
        issuer: TOKEN_ISSUER,
        typ: ACCESS_TOKEN_TYP,
        requiredClaims: ['sub', 'exp', 'nbf', 'iat'],
        currentDate: new Date(this.now()),
      });
      if (typeof payload.sub !== 'string' || payload.sub === '') return { ok: false, code: 'TOKEN_INVALID', message: 'the token has no subject' };
      return { ok: true, username: payload.sub };
    } catch (error) {
      return classify(error);
    }
  }
}
