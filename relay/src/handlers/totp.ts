import { Secret, TOTP } from 'otpauth';
import type { FrameOf } from '../../protocol/index.js';
import { errorFrame, okFrame } from '../replies.js';
import type { LockStore } from '../store/ports.js';

const PERIOD_S = 30;
/** One step either side: clocks drift and people type slowly. */
const WINDOW = 1;
const ISSUER = 'Parley';

function totp(username: string, secret: string): TOTP {
  return new TOTP({ issuer: ISSUER, label: username, algorithm: 'SHA1', digits: 6, period: PERIOD_S, secret: Secret.fromBase32(secret) });
}

/** The 30 s step a code is valid for, or undefined: wrong, or already used (a code is good once). */
export function acceptCode(username: string, secret: string, code: string, lastStep: number, now: number): number | undefined {
  if (!/^\d{6}$/.test(code)) return undefined;
  const delta = totp(username, secret).validate({ token: code, timestamp: now, window: WINDOW });
  if (delta === null) return undefined;
  const step = Math.floor(now / 1000 / PERIOD_S) + delta;
  return step > lastStep ? step : undefined;
}

export function handleTotpSetup(frame: FrameOf<'TOTP_SETUP'>, username: string, locks: LockStore): FrameOf<'TOTP_SECRET'> {
  const secret = new Secret({ size: 20 }).base32;
  locks.setPending(username, secret);
  return { name: 'TOTP_SECRET', requestId: frame.requestId, secret, uri: totp(username, secret).toString() };
}

export function handleTotpEnable(frame: FrameOf<'TOTP_ENABLE'>, username: string, locks: LockStore, now: number): FrameOf<'OK'> | FrameOf<'ERROR'> {
  const lock = locks.get(username);
  if (lock?.pending == null) return errorFrame(frame.requestId, 'TOTP_NOT_PENDING', 'send TOTP_SETUP first');
  const step = acceptCode(username, lock.pending, frame.code, 0, now);
  if (step === undefined) return errorFrame(frame.requestId, 'TOTP_INVALID', 'wrong or expired code');
  locks.enable(username, now, step);
  return okFrame(frame.requestId);
}

export function handleTotpDisable(frame: FrameOf<'TOTP_DISABLE'>, username: string, locks: LockStore, now: number): FrameOf<'OK'> | FrameOf<'ERROR'> {
  const lock = locks.get(username);
  if (lock?.secret == null) return errorFrame(frame.requestId, 'TOTP_NOT_ENABLED', 'the registration lock is not on');
  if (acceptCode(username, lock.secret, frame.code, lock.lastStep, now) === undefined) {
    return errorFrame(frame.requestId, 'TOTP_INVALID', 'wrong or expired code');
  }
  locks.disable(username);
  return okFrame(frame.requestId);
}
