import { setTimeout as delay } from 'node:timers/promises';
import { Secret, TOTP } from 'otpauth';
import { afterEach, describe, expect, it } from 'vitest';
import type { Frame } from '../../relay/protocol/index.js';
import { runAdmin } from '../../relay/src/admin/cli.js';
import { startTestRelay, type TestRelay } from '../support/relay.js';
import { WireClient, createIdentity, expectOk, signChallenge, type TestIdentity } from '../support/wire-client.js';

const relays: TestRelay[] = [];
const clients: WireClient[] = [];

afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.close()));
  for (const relay of relays.splice(0).reverse()) await relay.close();
});

/** A relay whose clock the test moves in whole 30 s TOTP steps. */
async function relay(options: Parameters<typeof startTestRelay>[0] = {}): Promise<{ r: TestRelay; clock: { now: number } }> {
  const clock = { now: 1_800_000_000_000 };
  const r = await startTestRelay({ now: () => clock.now, ...options });
  relays.push(r);
  return { r, clock };
}

async function connect(url: string): Promise<WireClient> {
  const client = await WireClient.connect(url);
  clients.push(client);
  return client;
}

/** The code an authenticator app shows for this secret at time now (computed independently of the relay). */
function codeAt(secret: string, now: number): string {
  return new TOTP({ secret: Secret.fromBase32(secret), digits: 6, period: 30, algorithm: 'SHA1' }).generate({ timestamp: now });
}

function wrongCode(secret: string, now: number): string {
  const right = codeAt(secret, now);
  return right === '000000' ? '000001' : '000000';
}

/** A re-binding to identity's keys; `forged` swaps in another identity's agreementSig or challenge signature. */
function registerLocked(client: WireClient, identity: TestIdentity, code: string, forged: { agreementSig?: Uint8Array; signature?: Uint8Array } = {}): Promise<Frame> {
  return client.request({
    name: 'REGISTER_LOCKED',
    username: identity.username,
    identityKey: identity.identityKey,
    agreementKey: identity.agreementKey,
    agreementSig: forged.agreementSig ?? identity.agreementSig,
    signature: forged.signature ?? signChallenge(identity, client.nonce),
    code,
  });
}

/** alice registers, asks for a secret and enables the lock with a right code. */
async function lockedAlice(r: TestRelay, clock: { now: number }): Promise<{ alice: TestIdentity; secret: string; session: WireClient }> {
  const alice = await createIdentity('alice');
  const session = await connect(r.url);
  await expectOk(session.register(alice));
  const setup = await session.request({ name: 'TOTP_SETUP' });
  if (setup.name !== 'TOTP_SECRET') throw new Error(`expected TOTP_SECRET, got ${setup.name}`);
  await expectOk(session.request({ name: 'TOTP_ENABLE', code: codeAt(setup.secret, clock.now) }));
  return { alice, secret: setup.secret, session };
}

describe('registration lock (TOTP)', () => {
  it('gives a secret and an otpauth URI, and enables only with a right code', async () => {
    const { r, clock } = await relay();
    const session = await connect(r.url);
    await expectOk(session.register(await createIdentity('alice')));
    expect(await session.request({ name: 'TOTP_ENABLE', code: '123456' })).toMatchObject({ code: 'TOTP_NOT_PENDING' });
    const setup = await session.request({ name: 'TOTP_SETUP' });
    expect(setup).toMatchObject({ name: 'TOTP_SECRET', secret: expect.stringMatching(/^[A-Z2-7]{32}$/) });
    if (setup.name !== 'TOTP_SECRET') return;
    expect(setup.uri).toBe(`otpauth://totp/Parley:alice?issuer=Parley&secret=${setup.secret}&algorithm=SHA1&digits=6&period=30`);
    expect(await session.request({ name: 'TOTP_ENABLE', code: wrongCode(setup.secret, clock.now) })).toMatchObject({ code: 'TOTP_INVALID' });
    expect(await session.request({ name: 'TOTP_ENABLE', code: 'abcdef' })).toMatchObject({ code: 'TOTP_INVALID' });
    await expectOk(session.request({ name: 'TOTP_ENABLE', code: codeAt(setup.secret, clock.now) }));
  });

  it('re-binds the username to a new identity key only with a right code; the old key stops working', async () => {
    const { r, clock } = await relay();
    const { alice, secret } = await lockedAlice(r, clock);
    const newAlice = await createIdentity('alice');
    expect(await (await connect(r.url)).register(newAlice)).toMatchObject({ code: 'USERNAME_TAKEN' });

    clock.now += 30_000;
    const wrong = await connect(r.url);
    expect(await registerLocked(wrong, newAlice, wrongCode(secret, clock.now))).toMatchObject({ code: 'TOTP_INVALID' });
    expect((await wrong.closed).code).toBe(1008);

    const right = await connect(r.url);
    await expectOk(registerLocked(right, newAlice, codeAt(secret, clock.now)));
    expect(await right.request({ name: 'LOOKUP', username: 'alice' })).toMatchObject({ identityKey: newAlice.identityKey });
    expect(await (await connect(r.url)).auth(alice)).toMatchObject({ code: 'AUTH_FAILED' });
    await expectOk((await connect(r.url)).auth(newAlice));

    // The same code is good once.
    const replay = await connect(r.url);
    expect(await registerLocked(replay, await createIdentity('alice'), codeAt(secret, clock.now))).toMatchObject({ code: 'TOTP_INVALID' });
  });

  it('refuses a re-binding whose new key does not sign its agreement key or the challenge, or of a banned user, even with a right code', async () => {
    // Each refusal counts as an attempt; enough of them here to reach the last.
    const { r, clock } = await relay({ rateLimits: { totp: { points: 10, durationMs: 60_000 } } });
    const { alice, secret } = await lockedAlice(r, clock);
    const newAlice = await createIdentity('alice');
    const mallory = await createIdentity('alice');
    clock.now += 30_000;
    const code = codeAt(secret, clock.now);
    expect(await registerLocked(await connect(r.url), newAlice, code, { agreementSig: mallory.agreementSig })).toMatchObject({ code: 'AUTH_FAILED' });
    const other = await connect(r.url);
    expect(await registerLocked(other, newAlice, code, { signature: signChallenge(mallory, other.nonce) })).toMatchObject({ code: 'AUTH_FAILED' });
    expect(await registerLocked(await connect(r.url), newAlice, code, { signature: signChallenge(newAlice, new Uint8Array(32)) })).toMatchObject({ code: 'AUTH_FAILED' });

    runAdmin(['--data', r.dataDir, 'users', 'ban', 'alice']);
    expect(await registerLocked(await connect(r.url), newAlice, code)).toMatchObject({ code: 'AUTH_BANNED' });
    runAdmin(['--data', r.dataDir, 'users', 'unban', 'alice']);
    // None of the refusals moved the username to the new key, nor spent the code.
    await expectOk((await connect(r.url)).auth(alice));
    await expectOk(registerLocked(await connect(r.url), newAlice, code));
  });

  it("accepts a code of the step before or after the relay's clock, and no further off", async () => {
    const { r, clock } = await relay();
    const session = await connect(r.url);
    await expectOk(session.register(await createIdentity('alice')));
    const setup = await session.request({ name: 'TOTP_SETUP' });
    if (setup.name !== 'TOTP_SECRET') throw new Error(`expected TOTP_SECRET, got ${setup.name}`);
    // Codes that happen to match a nearer step would make this test pass for the wrong reason.
    const near = new Set([-1, 0, 1].map((steps) => codeAt(setup.secret, clock.now + steps * 30_000)));
    for (const steps of [-2, 2]) {
      const far = codeAt(setup.secret, clock.now + steps * 30_000);
      if (!near.has(far)) expect(await session.request({ name: 'TOTP_ENABLE', code: far })).toMatchObject({ code: 'TOTP_INVALID' });
    }
    await expectOk(session.request({ name: 'TOTP_ENABLE', code: codeAt(setup.secret, clock.now - 30_000) }));

    // The lock's next code may be from the step after.
    const newAlice = await createIdentity('alice');
    await expectOk(registerLocked(await connect(r.url), newAlice, codeAt(setup.secret, clock.now + 30_000)));
  });

  it('takes each code once across enabling, re-binding and disabling', async () => {
    const { r, clock } = await relay();
    const { secret } = await lockedAlice(r, clock);
    // The code that enabled the lock does not also re-bind the username.
    const enabling = codeAt(secret, clock.now);
    const newAlice = await createIdentity('alice');
    expect(await registerLocked(await connect(r.url), newAlice, enabling)).toMatchObject({ code: 'TOTP_INVALID' });

    clock.now += 30_000;
    const rebinding = codeAt(secret, clock.now);
    const session = await connect(r.url);
    await expectOk(registerLocked(session, newAlice, rebinding));
    // Nor does the code that re-bound it turn the lock off.
    expect(await session.request({ name: 'TOTP_DISABLE', code: rebinding })).toMatchObject({ code: 'TOTP_INVALID' });
    clock.now += 30_000;
    await expectOk(session.request({ name: 'TOTP_DISABLE', code: codeAt(secret, clock.now) }));
  });

  it('answers TOTP_NOT_ENABLED for a username without a lock, and after the lock is turned off', async () => {
    const { r, clock } = await relay();
    await (await WireClient.registered(r.url, await createIdentity('bob'))).close();
    expect(await registerLocked(await connect(r.url), await createIdentity('bob'), '123456')).toMatchObject({ code: 'TOTP_NOT_ENABLED' });

    const { secret, session } = await lockedAlice(r, clock);
    expect(await session.request({ name: 'TOTP_DISABLE', code: wrongCode(secret, clock.now + 30_000) })).toMatchObject({ code: 'TOTP_INVALID' });
    clock.now += 30_000;
    await expectOk(session.request({ name: 'TOTP_DISABLE', code: codeAt(secret, clock.now) }));
    clock.now += 30_000;
    expect(await registerLocked(await connect(r.url), await createIdentity('alice'), codeAt(secret, clock.now))).toMatchObject({
      code: 'TOTP_NOT_ENABLED',
    });
  });

  it('rate-limits code attempts per username with RATE_LIMITED and a retryAfterMs, then accepts a right code', async () => {
    const { r, clock } = await relay({ rateLimits: { totp: { points: 3, durationMs: 400 } } });
    const { secret } = await lockedAlice(r, clock); // the enable used one attempt
    const newAlice = await createIdentity('alice');
    clock.now += 30_000;
    for (let i = 0; i < 2; i++) expect(await registerLocked(await connect(r.url), newAlice, wrongCode(secret, clock.now))).toMatchObject({ code: 'TOTP_INVALID' });
    const limited = await connect(r.url);
    const refusal = await registerLocked(limited, newAlice, codeAt(secret, clock.now));
    expect(refusal).toMatchObject({ name: 'ERROR', code: 'RATE_LIMITED' });
    expect((await limited.closed).code).toBe(1013);
    if (refusal.name !== 'ERROR') return;
    await delay(refusal.retryAfterMs);
    await expectOk(registerLocked(await connect(r.url), newAlice, codeAt(secret, clock.now)));
  });
});
