import type { FrameOf } from '../../../relay/protocol/index.js';

/** A token this close to its expiry (by our estimate of the relay's clock) is not offered: the full challenge is cheaper than a refusal. */
const EXPIRY_MARGIN_MS = 30_000;
/** A held token is renewed once this share of its lifetime has passed, so a long connection still has a fresh one when it drops. */
const RENEW_AT_SHARE = 0.75;

/**
 * The relay's access token for RESUME, held in memory only: never written anywhere, never logged, gone
 * when the client stops (lock, close). Expiry is tracked on the local clock, corrected by the relay's
 * clock as seen in the CHALLENGE of the connection that received it.
 */
export class AccessTokenHolder {
  #token: string | undefined;
  #expiresAtLocal = 0;

  /** Keep the token the relay issued; `clockSkewMs` is the relay's clock minus ours. Returns ms until it should be renewed. */
  hold(frame: FrameOf<'TOKEN'>, clockSkewMs: number, now = Date.now()): number {
    this.#token = frame.token;
    this.#expiresAtLocal = frame.expiresAt - clockSkewMs;
    return Math.max(0, Math.floor((this.#expiresAtLocal - now) * RENEW_AT_SHARE));
  }

  /** The token if it is worth offering now. */
  usable(now = Date.now()): string | undefined {
    if (this.#token === undefined || now >= this.#expiresAtLocal - EXPIRY_MARGIN_MS) return undefined;
    return this.#token;
  }

  forget(): void {
    this.#token = undefined;
    this.#expiresAtLocal = 0;
  }

  /** Never print the token. */
  toJSON(): string {
    return this.#token === undefined ? '[no access token]' : '[access token]';
  }
}
