import { createPrivateKey, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { SignJWT, UnsecuredJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import type { Frame } from '../../relay/protocol/index.js';
import { runAdmin } from '../../relay/src/admin/cli.js';
import { TOKEN_KEY_FILE } from '../../relay/src/tokens.js';
import type { TestRelay } from '../support/relay.js';
import { createIdentity, expectOk, type WireClient } from '../support/wire-client.js';
import { useRelayHarness } from '../support/relay-harness.js';

const { relay, restart, connect } = useRelayHarness();

/** Register alice and get her an access token. */
async function aliceWithToken(r: TestRelay): Promise<{ token: string; expiresAt: number }> {
  const client = await connect(r.url);
  await expectOk(client.register(await createIdentity('alice')));
  const reply = await client.request({ name: 'TOKEN_REQUEST' });
  if (reply.name !== 'TOKEN') throw new Error(`expected TOKEN, got ${reply.name}`);
  await client.close();
  return { token: reply.token, expiresAt: reply.expiresAt };
}

async function whoami(r: TestRelay, authorization?: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`http://127.0.0.1:${r.port}/v1/whoami`, { headers: authorization === undefined ? {} : { authorization } });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

function relayKey(r: TestRelay): KeyObject {
  return createPrivateKey(readFileSync(join(r.dataDir, TOKEN_KEY_FILE), 'utf8'));
}

interface Forgery {
  readonly alg?: string;
  readonly typ?: string;
  readonly aud?: string;
  readonly iss?: string;
  readonly expOffset?: number;
  readonly nbfOffset?: number;
  readonly sub?: string;
  /** A claim the token leaves out. */
  readonly without?: 'sub' | 'exp' | 'nbf' | 'iat';
}

/** A token shaped like the relay's, with one thing changed, signed with key (the relay's own unless given). */
function forge(key: KeyObject | Uint8Array, forgery: Forgery = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const all = { sub: forgery.sub ?? 'alice', iat: now - 10, nbf: now + (forgery.nbfOffset ?? -10), exp: now + (forgery.expOffset ?? 600) };
  const claims = Object.fromEntries(Object.entries(all).filter(([name]) => name !== forgery.without));
  return new SignJWT(claims)
    .setProtectedHeader({ alg: forgery.alg ?? 'EdDSA', typ: forgery.typ ?? 'at+jwt' })
    .setIssuer(forgery.iss ?? 'parley-relay')
    .setAudience(forgery.aud ?? 'parley-relay')
    .sign(key);
}

async function resume(r: TestRelay, token: string): Promise<{ reply: Frame; client: WireClient }> {
  const client = await connect(r.url);
  return { reply: await client.request({ name: 'RESUME', token }), client };
}

describe('access tokens', () => {
  it('issues a token after authentication, and RESUME with it authenticates a new connection', async () => {
    const r = await relay();
    const before = Date.now();
    const { token, expiresAt } = await aliceWithToken(r);
    expect(expiresAt).toBeGreaterThan(before + 14 * 60_000);
    expect(expiresAt).toBeLessThanOrEqual(Date.now() + 15 * 60_000 + 1_000);
    const { reply, client } = await resume(r, token);
    expect(reply).toMatchObject({ name: 'OK' });
    expect(await client.next('DRAINED')).toMatchObject({ count: 0 });
    expect(await client.request({ name: 'LOOKUP', username: 'alice' })).toMatchObject({ name: 'USER' });
  });

  it('answers TOKEN_REQUEST before authentication with AUTH_REQUIRED', async () => {
    const r = await relay();
    expect(await (await connect(r.url)).request({ name: 'TOKEN_REQUEST' })).toMatchObject({ code: 'AUTH_REQUIRED' });
  });

  it('accepts the token as Bearer on HTTP, and refuses a missing one with 401 TOKEN_MISSING', async () => {
    const r = await relay();
    const { token } = await aliceWithToken(r);
    expect(await whoami(r, `Bearer ${token}`)).toEqual({ status: 200, body: { username: 'alice' } });
    expect(await whoami(r)).toMatchObject({ status: 401, body: { code: 'TOKEN_MISSING' } });
    expect(await whoami(r, `Basic ${token}`)).toMatchObject({ status: 401, body: { code: 'TOKEN_MISSING' } });
  });

  it.each<[string, (r: TestRelay) => Promise<string>, string]>([
    ['alg none', async () => new UnsecuredJWT({ sub: 'alice' }).setAudience('parley-relay').setIssuer('parley-relay').setExpirationTime('10m').encode(), 'TOKEN_INVALID'],
    ['a wrong key', () => forge(generateKeyPairSync('ed25519').privateKey), 'TOKEN_INVALID'],
    ['HS256 (an algorithm not on the allow-list)', () => forge(new Uint8Array(randomBytes(32)), { alg: 'HS256' }), 'TOKEN_INVALID'],
    ["Ed25519, the relay's own key under another algorithm name not on the allow-list", (r) => forge(relayKey(r), { alg: 'Ed25519' }), 'TOKEN_INVALID'],
    ['an expired token', (r) => forge(relayKey(r), { expOffset: -5 }), 'TOKEN_EXPIRED'],
    ['a wrong audience', (r) => forge(relayKey(r), { aud: 'another-relay' }), 'TOKEN_AUDIENCE'],
    ['a wrong type', (r) => forge(relayKey(r), { typ: 'JWT' }), 'TOKEN_TYPE'],
    ['a wrong issuer', (r) => forge(relayKey(r), { iss: 'someone-else' }), 'TOKEN_INVALID'],
    ['a token not yet valid', (r) => forge(relayKey(r), { nbfOffset: 300 }), 'TOKEN_INVALID'],
    ['a token with no expiry', (r) => forge(relayKey(r), { without: 'exp' }), 'TOKEN_INVALID'],
    ['a token with no not-before', (r) => forge(relayKey(r), { without: 'nbf' }), 'TOKEN_INVALID'],
    ['a token with no issue time', (r) => forge(relayKey(r), { without: 'iat' }), 'TOKEN_INVALID'],
    ['a token with no subject', (r) => forge(relayKey(r), { without: 'sub' }), 'TOKEN_INVALID'],
    ['a token whose subject is empty', (r) => forge(relayKey(r), { sub: '' }), 'TOKEN_INVALID'],
    ['a tampered payload', async (r) => {
      const [header, , signature] = (await forge(relayKey(r))).split('.');
      const payload = Buffer.from(JSON.stringify({ sub: 'mallory', aud: 'parley-relay', iss: 'parley-relay', exp: 4e9, nbf: 0, iat: 0 })).toString('base64url');
      return `${header}.${payload}.${signature}`;
    }, 'TOKEN_INVALID'],
    ['garbage', async () => 'not.a.token', 'TOKEN_INVALID'],
  ])('refuses %s: 401 on HTTP and an ERROR then close on RESUME, with a stable code', async (_label, make, code) => {
    const r = await relay();
    await aliceWithToken(r);
    const token = await make(r);
    expect(await whoami(r, `Bearer ${token}`)).toMatchObject({ status: 401, body: { code } });
    const { reply, client } = await resume(r, token);
    expect(reply).toMatchObject({ name: 'ERROR', code });
    expect((await client.closed).code).toBe(1008);
  });

  it('a token from the relay itself, forged only in what the test changes, is accepted (the forgeries differ by one thing)', async () => {
    const r = await relay();
    await aliceWithToken(r);
    expect(await whoami(r, `Bearer ${await forge(relayKey(r))}`)).toEqual({ status: 200, body: { username: 'alice' } });
  });

  it('expires with the relay clock after tokenTtlMs', async () => {
    let now = Date.now();
    const r = await relay({ now: () => now, tokenTtlMs: 60_000 });
    const { token } = await aliceWithToken(r);
    now += 61_000;
    expect((await resume(r, token)).reply).toMatchObject({ code: 'TOKEN_EXPIRED' });
  });

  it('refuses the token of a banned user with AUTH_BANNED and of a deleted user with TOKEN_INVALID', async () => {
    const r = await relay();
    const { token } = await aliceWithToken(r);
    runAdmin(['--data', r.dataDir, 'users', 'ban', 'alice']);
    expect((await resume(r, token)).reply).toMatchObject({ code: 'AUTH_BANNED' });
    expect((await whoami(r, `Bearer ${token}`)).status).toBe(403);
    runAdmin(['--data', r.dataDir, 'users', 'delete', 'alice']);
    expect((await resume(r, token)).reply).toMatchObject({ code: 'TOKEN_INVALID' });
  });

  it('answers RESUME with an empty token with TOKEN_MISSING', async () => {
    const r = await relay();
    const { reply, client } = await resume(r, '');
    expect(reply).toMatchObject({ name: 'ERROR', code: 'TOKEN_MISSING' });
    expect((await client.closed).code).toBe(1008);
  });

  it('keeps its signing key, readable by its owner alone, across restarts, so tokens survive a restart', async () => {
    const r = await relay();
    const { token } = await aliceWithToken(r);
    expect(statSync(join(r.dataDir, TOKEN_KEY_FILE)).mode & 0o777).toBe(0o600);
    const restarted = await restart(r);
    expect((await resume(restarted, token)).reply).toMatchObject({ name: 'OK' });
  });
});
