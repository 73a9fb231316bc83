import { Secret, TOTP } from 'otpauth';

/** One TOTP step. */
export const STEP_MS = 30_000;

/** The code an authenticator app shows for this secret at `now`, computed apart from the relay, core and CLI. */
export function codeAt(secret: string, now: number): string {
  return new TOTP({ secret: Secret.fromBase32(secret), digits: 6, period: 30, algorithm: 'SHA1' }).generate({ timestamp: now });
}

/** A code that is wrong for the current step and both steps beside it. */
export function wrongCode(secret: string, now: number): string {
  const valid = new Set([-1, 0, 1].map((step) => codeAt(secret, now + step * STEP_MS)));
  for (let n = 0; ; n += 1) {
    const candidate = String(n).padStart(6, '0');
    if (!valid.has(candidate)) return candidate;
  }
}
