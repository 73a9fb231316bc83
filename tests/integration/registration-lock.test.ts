import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { toHex } from '../../app/core/crypto/bytes.js';
import { randomBytes } from '../../app/core/crypto/random.js';
import { openCore, type Core } from '../../app/core/index.js';
import { startTestRelay, type TestRelay } from '../support/relay.js';
import { useCleanups } from '../support/cleanups.js';
import { STEP_MS, codeAt, wrongCode } from '../support/totp.js';
import { value, code } from '../support/result.js';

const PASSPHRASE = 'a long enough passphrase';
/** 30 s TOTP steps; the relay's clock is moved one step before each code so no code is reused. */
const cleanups = useCleanups();

async function core(): Promise<Core> {
  const dir = await mkdtemp(path.join(tmpdir(), 'parley-reglock-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const opened = await openCore({ profileDir: dir });
  cleanups.push(() => opened.close());
  return opened;
}

/** A relay whose clock the test moves; room for every code attempt a test makes unless it says otherwise. */
async function relay(totpAttempts = 20): Promise<{ r: TestRelay; clock: { now: number } }> {
  const clock = { now: 1_800_000_000_000 };
  const r = await startTestRelay({ now: () => clock.now, rateLimits: { totp: { points: totpAttempts, durationMs: 15 * 60_000 } } });
  cleanups.push(() => r.close());
  return { r, clock };
}

describe('registration lock (core against a real relay)', () => {
  it('turns on with a right code; a reinstall takes the name only with a right code; then turns off', async () => {
    const { r, clock } = await relay();
    const name = `lock${toHex(randomBytes(4))}`;
    const first = await core();
    value(await first.invoke('profile.create', { username: name, passphrase: PASSPHRASE, relayUrl: r.url }));
    expect(value(await first.invoke('registrationLock.status', {}))).toEqual({ enabled: false });
    expect(code(await first.invoke('registrationLock.enable', { code: '123456' }))).toBe('REGLOCK_NOT_PENDING');

    const setup = value(await first.invoke('registrationLock.setup', {}));
    expect(setup.secret).toMatch(/^[A-Z2-7]{32}$/);
    expect(new URL(setup.uri).searchParams.get('secret')).toBe(setup.secret);
    expect(setup.uri.startsWith(`otpauth://totp/Parley:${name}?`)).toBe(true);
    expect(setup.qrSvg).toMatch(/^<svg[\s\S]*<\/svg>\s*$/);
    expect(code(await first.invoke('registrationLock.enable', { code: 'abcdef' }))).toBe('VALIDATION_FAILED');
    expect(code(await first.invoke('registrationLock.enable', { code: wrongCode(setup.secret, clock.now) }))).toBe('REGLOCK_INVALID_CODE');
    expect(value(await first.invoke('registrationLock.status', {}))).toEqual({ enabled: false });
    expect(value(await first.invoke('registrationLock.enable', { code: codeAt(setup.secret, clock.now) }))).toEqual({ enabled: true });

    const reinstall = await core();
    const create = (registrationLockCode?: string): ReturnType<Core['invoke']> =>
      reinstall.invoke('profile.create', { username: name, passphrase: PASSPHRASE, relayUrl: r.url, ...(registrationLockCode === undefined ? {} : { registrationLockCode }) });
    clock.now += STEP_MS;
    expect(code(await create())).toBe('RELAY_USERNAME_TAKEN');
    expect(code(await create(wrongCode(setup.secret, clock.now)))).toBe('REGLOCK_INVALID_CODE');
    expect(value(await reinstall.invoke('profile.status', {})).state).toBe('none');
    value(await create(codeAt(setup.secret, clock.now)));
    expect(value(await reinstall.invoke('registrationLock.status', {}))).toEqual({ enabled: true });

    clock.now += STEP_MS;
    expect(value(await reinstall.invoke('registrationLock.disable', { code: codeAt(setup.secret, clock.now) }))).toEqual({ enabled: false });
    clock.now += STEP_MS;
    expect(code(await reinstall.invoke('registrationLock.disable', { code: codeAt(setup.secret, clock.now) }))).toBe('REGLOCK_NOT_ENABLED');
  });

  it('says RELAY_RATE_LIMITED when the relay limits code attempts', async () => {
    const { r, clock } = await relay(2);
    const profile = await core();
    value(await profile.invoke('profile.create', { username: `lock${toHex(randomBytes(4))}`, passphrase: PASSPHRASE, relayUrl: r.url }));
    const { secret } = value(await profile.invoke('registrationLock.setup', {}));
    const wrong = wrongCode(secret, clock.now);
    expect(code(await profile.invoke('registrationLock.enable', { code: wrong }))).toBe('REGLOCK_INVALID_CODE');
    expect(code(await profile.invoke('registrationLock.enable', { code: wrong }))).toBe('REGLOCK_INVALID_CODE');
    expect(code(await profile.invoke('registrationLock.enable', { code: codeAt(secret, clock.now) }))).toBe('RELAY_RATE_LIMITED');
    expect(value(await profile.invoke('registrationLock.status', {}))).toEqual({ enabled: false });
  });
});
