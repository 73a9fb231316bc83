import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, statSync, statfsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import type { Frame } from '../../relay/protocol/index.js';
import { UsageError, runAdmin } from '../../relay/src/admin/cli.js';
import { AdminError } from '../../relay/src/admin/operations.js';
import { startRelay } from '../../relay/src/server.js';
import { RESERVED_USERNAMES, usernameProblem, usernameSkeleton } from '../../relay/src/usernames.js';
import type { TestRelay } from '../support/relay.js';
import { publishAll } from '../support/prekeys.js';
import { WireClient, createIdentity, expectOk, signChallenge, type TestIdentity } from '../support/wire-client.js';
import { useRelayHarness } from '../support/relay-harness.js';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const { relay, connect, registered, authenticated } = useRelayHarness();

function admin(r: TestRelay, ...args: string[]): string[] {
  return runAdmin(['--data', r.dataDir, ...args]);
}

function registerWithInvite(client: WireClient, identity: TestIdentity, invite: string): Promise<Frame> {
  return client.request({
    name: 'REGISTER_INVITE',
    username: identity.username,
    identityKey: identity.identityKey,
    agreementKey: identity.agreementKey,
    agreementSig: identity.agreementSig,
    signature: signChallenge(identity, client.nonce),
    invite,
  });
}

function codeOf(frame: Frame): string {
  return frame.name === 'ERROR' ? frame.code : frame.name;
}

/** The code printed by `invites create`. */
function newInvite(r: TestRelay, ...args: string[]): { id: string; code: string } {
  const match = /^invite ([0-9a-f]{8}): (\S+)$/.exec(admin(r, 'invites', 'create', ...args)[0] ?? '');
  if (match?.[1] === undefined || match[2] === undefined) throw new Error('invites create printed no code');
  return { id: match[1], code: match[2] };
}

describe('usernames', () => {
  it('folds look-alikes to one skeleton', () => {
    expect(usernameSkeleton('alice')).toBe(usernameSkeleton('a1ice'));
    expect(usernameSkeleton('bob')).toBe(usernameSkeleton('b0b'));
    expect(usernameSkeleton('bob')).toBe(usernameSkeleton('b.o_b'));
    expect(usernameSkeleton('modern')).toBe(usernameSkeleton('modem'));
    expect(usernameSkeleton('wendy')).toBe(usernameSkeleton('vvendy'));
    expect(usernameSkeleton('jason')).toBe(usernameSkeleton('ja5on'));
    // Case folds too, for any string it is given, not only names that passed the wire pattern.
    expect(usernameSkeleton('Alice')).toBe(usernameSkeleton('alice'));
    expect(usernameSkeleton('alice')).not.toBe(usernameSkeleton('alicia'));
  });

  it('refuses reserved names and their look-alikes, and names not in canonical form', () => {
    for (const name of RESERVED_USERNAMES) if (name.length >= 3) expect(usernameProblem(name)).toBe('reserved');
    expect(usernameProblem('adm1n')).toBe('reserved');
    expect(usernameProblem('r00t')).toBe('reserved');
    expect(usernameProblem('Alice')).toBe('invalid');
    expect(usernameProblem('аlice')).toBe('invalid'); // Cyrillic a
    expect(usernameProblem('alice')).toBeUndefined();
  });
});

describe('registration policy on the wire', () => {
  it('answers USERNAME_RESERVED for a reserved name and USERNAME_TAKEN for a look-alike of a registered one', async () => {
    const r = await relay();
    expect(codeOf(await (await connect(r.url)).register(await createIdentity('admin')))).toBe('USERNAME_RESERVED');
    await expectOk((await connect(r.url)).register(await createIdentity('alice')));
    expect(codeOf(await (await connect(r.url)).register(await createIdentity('a1ice')))).toBe('USERNAME_TAKEN');
  });

  it('on an invite-only relay: no invite, a good one, one used up, an expired one, a revoked one', async () => {
    const r = await relay({ registration: 'invite' });
    const identities = await Promise.all(['anna', 'bert', 'cleo', 'dora', 'emil', 'fynn'].map((name) => createIdentity(name)));
    const [anna, bert, cleo, dora, emil, fynn] = identities as [TestIdentity, TestIdentity, TestIdentity, TestIdentity, TestIdentity, TestIdentity];
    expect(codeOf(await (await connect(r.url)).register(anna))).toBe('INVITE_REQUIRED');

    const single = newInvite(r);
    await expectOk(registerWithInvite(await connect(r.url), anna, single.code));
    expect(codeOf(await registerWithInvite(await connect(r.url), bert, single.code))).toBe('INVITE_INVALID');
    // A registered user logs in without an invite.
    await expectOk((await connect(r.url)).register(anna));

    const multi = newInvite(r, '--uses', '2', '--expires-in', 'never');
    await expectOk(registerWithInvite(await connect(r.url), bert, multi.code));
    await expectOk(registerWithInvite(await connect(r.url), cleo, multi.code));
    expect(codeOf(await registerWithInvite(await connect(r.url), dora, multi.code))).toBe('INVITE_INVALID');

    const expired = runAdmin(['--data', r.dataDir, 'invites', 'create', '--expires-in', '1m'], Date.now() - 120_000)[0]?.split(': ')[1] ?? '';
    expect(codeOf(await registerWithInvite(await connect(r.url), dora, expired))).toBe('INVITE_INVALID');
    expect(codeOf(await registerWithInvite(await connect(r.url), dora, 'no-such-code'))).toBe('INVITE_INVALID');

    const revoked = newInvite(r);
    expect(admin(r, 'invites', 'revoke', revoked.id)).toEqual([`revoked ${revoked.id}`]);
    expect(codeOf(await registerWithInvite(await connect(r.url), emil, revoked.code))).toBe('INVITE_INVALID');

    const states = admin(r, 'invites', 'list').map((line) => line.split('\t'));
    // Listed by creation time; the expired one was created "two minutes ago", so it comes first.
    expect(states.map((row) => [row[0], row[1], row[3]])).toEqual([
      [expect.stringMatching(/^[0-9a-f]{8}$/), '0/1', 'expired'],
      [single.id, '1/1', 'used-up'],
      [multi.id, '2/2', 'used-up'],
      [revoked.id, '0/1', 'revoked'],
    ]);
    const fresh = newInvite(r, '--uses', '3');
    await expectOk(registerWithInvite(await connect(r.url), fynn, fresh.code));
    expect(admin(r, 'stats')).toContain('active invites 1');
  });
});

/** A relay where bob has registered and published prekeys, then gone offline, and alice is connected to send. */
async function aliceAndOfflineBob(): Promise<{ r: TestRelay; sender: WireClient }> {
  const r = await relay();
  const [alice, bob] = await Promise.all([createIdentity('alice'), createIdentity('bob')]);
  const bobClient = await WireClient.registered(r.url, bob);
  await publishAll(bobClient, bob);
  await bobClient.close();
  const sender = await connect(r.url);
  await expectOk(sender.register(alice));
  return { r, sender };
}

/** `identity` reads and acks the envelope `messageId`; its next connection finds its queue empty (the ack is stored). */
async function acked(r: TestRelay, identity: TestIdentity, messageId: Uint8Array): Promise<void> {
  const reader = await connect(r.url);
  await expectOk(reader.auth(identity));
  expect(await reader.next('DELIVER')).toMatchObject({ messageId });
  reader.post({ name: 'ACK', messageId });
  await reader.next('DRAINED');
  await reader.close();
  const again = await connect(r.url);
  await expectOk(again.auth(identity));
  expect(await again.next('DRAINED')).toMatchObject({ count: 0 });
  await again.close();
}

describe('relay:admin', () => {
  it('users list shows each user with registration, ban state and queue depth', async () => {
    const { r, sender } = await aliceAndOfflineBob();
    await expectOk(sender.request({ name: 'SEND', to: 'bob', messageId: new Uint8Array(16).fill(1), envelope: Uint8Array.of(1, 2) }));
    const rows = admin(r, 'users', 'list').map((line) => line.split('\t'));
    expect(rows.map((row) => [row[0], row[2], row[3]])).toEqual([
      ['alice', 'active', 'queued 0'],
      ['bob', 'active', 'queued 1'],
    ]);
    expect(rows[0]?.[1]).toMatch(/^registered \d{4}-\d\d-\d\dT/);
    expect(admin(r, 'stats').slice(0, 5)).toEqual(['users 2', 'banned 0', 'queued envelopes 1', 'queued bytes 2', 'active invites 0']);
  });

  it("stats shows the database's size, the unexpired blobs' bytes and the space left on the data folder's disk", async () => {
    const r = await relay();
    const client = await connect(r.url);
    await expectOk(client.register(await createIdentity('alice')));
    const token = await client.request({ name: 'TOKEN_REQUEST' });
    if (token.name !== 'TOKEN') throw new Error(`expected TOKEN, got ${token.name}`);
    const put = await fetch(`http://127.0.0.1:${r.port}/v1/blobs`, { method: 'PUT', headers: { authorization: `Bearer ${token.token}` }, body: new Uint8Array(1_000) });
    expect(put.status).toBe(201);

    const lines = admin(r, 'stats');
    expect(lines.slice(5, 7).map((line) => line.replace(/\d+$/, 'N'))).toEqual(['database bytes N', 'blob bytes N']);
    const value = (name: string): number => Number(lines.find((line) => line.startsWith(`${name} `))?.slice(name.length + 1));
    // Whole pages, and at least what the database file holds (more while pages wait in its write-ahead log).
    expect(value('database bytes') % 4_096).toBe(0);
    expect(value('database bytes')).toBeGreaterThanOrEqual(statSync(join(r.dataDir, 'relay.sqlite')).size);
    expect(value('blob bytes')).toBe(1_000);
    const { bavail, bsize } = statfsSync(r.dataDir);
    expect(Math.abs(value('disk free bytes') - bavail * bsize)).toBeLessThan(64 * 1024 * 1024);
  });

  it('users ban refuses the user with AUTH_BANNED (also on a live connection), and unban lets them back', async () => {
    const r = await relay({ pingIntervalMs: 50 });
    const [alice, bob] = await Promise.all([createIdentity('alice'), createIdentity('bob')]);
    const live = await connect(r.url);
    await expectOk(live.register(alice));
    await (await WireClient.registered(r.url, bob)).close();

    expect(admin(r, 'users', 'ban', 'alice', '--reason', 'spam')).toEqual(['banned alice']);
    expect(await live.next('ERROR')).toMatchObject({ code: 'AUTH_BANNED', requestId: 0 });
    expect((await live.closed).code).toBe(1008);

    const again = await connect(r.url);
    expect(await again.auth(alice)).toMatchObject({ name: 'ERROR', code: 'AUTH_BANNED', message: expect.stringMatching(/banned/) });
    expect((await again.closed).code).toBe(1008);
    expect(codeOf(await (await connect(r.url)).register(alice))).toBe('AUTH_BANNED');
    expect(admin(r, 'users', 'list')[0]).toMatch(/^alice\t.*\tbanned .* \(spam\)\tqueued 0$/);
    expect(admin(r, 'stats')).toContain('banned 1');

    expect(admin(r, 'users', 'unban', 'alice')).toEqual(['unbanned alice']);
    await expectOk((await connect(r.url)).auth(alice));
  });

  it('users delete drops the receipts waiting for the name and unties what others hold of it: the next to take the name gets none of it', async () => {
    const r = await relay({ maxBlobBytesPerUser: 1_000 });
    const [alice, bob, carol] = await Promise.all([createIdentity('alice'), createIdentity('bob'), createIdentity('carol')]);
    for (const identity of [bob, carol]) await (await WireClient.registered(r.url, identity)).close();
    const sender = await connect(r.url);
    await expectOk(sender.register(alice));
    const [toBob, toCarol] = [new Uint8Array(16).fill(1), new Uint8Array(16).fill(2)];
    for (const [to, messageId] of [['bob', toBob], ['carol', toCarol]] as const) {
      await expectOk(sender.request({ name: 'SEND_WITH_RECEIPT', to, messageId, envelope: Uint8Array.of(1), ttlMs: 0 }));
    }
    const token = await sender.request({ name: 'TOKEN_REQUEST' });
    if (token.name !== 'TOKEN') throw new Error(`expected TOKEN, got ${token.name}`);
    const put = (bearer: string): Promise<Response> =>
      fetch(`http://127.0.0.1:${r.port}/v1/blobs`, { method: 'PUT', headers: { authorization: `Bearer ${bearer}` }, body: new Uint8Array(1_000) });
    const { id: blobId } = (await (await put(token.token)).json()) as { id: string };
    await sender.close();
    // bob reads his: a receipt waits for alice. His next connection finds his queue empty, so the ack is stored.
    await acked(r, bob, toBob);

    expect(admin(r, 'users', 'delete', 'alice')).toEqual([
      'deleted alice: queue 0, registration_locks 0, signed_prekeys 0, one_time_prekeys 0, pq_prekeys 0, users 1, receipts 1',
      'untied from the name: envelopes it sent still queued 1 (no receipt will be sent), blobs it uploaded 1 (kept until they expire)',
    ]);
    // carol still gets what alice sent her, and reads it after the delete.
    await acked(r, carol, toCarol);

    const next = await connect(r.url);
    await expectOk(next.register(await createIdentity('alice')));
    expect(await next.next('DRAINED')).toMatchObject({ count: 0 });
    await next.request({ name: 'LOOKUP', username: 'alice' });
    expect(next.unread('RECEIPT')).toBe(0);
    // The old account's blob is still there for its recipients, and no longer counts against the name's quota.
    const nextToken = await next.request({ name: 'TOKEN_REQUEST' });
    if (nextToken.name !== 'TOKEN') throw new Error(`expected TOKEN, got ${nextToken.name}`);
    expect((await fetch(`http://127.0.0.1:${r.port}/v1/blobs/${blobId}`, { headers: { authorization: `Bearer ${nextToken.token}` } })).status).toBe(200);
    expect((await put(nextToken.token)).status).toBe(201);
  });

  it('users delete removes the account, rows stored under its name (prekeys) and its queue; the name is free again', async () => {
    const { r, sender } = await aliceAndOfflineBob();
    for (const fill of [1, 2]) {
      await expectOk(sender.request({ name: 'SEND', to: 'bob', messageId: new Uint8Array(16).fill(fill), envelope: Uint8Array.of(fill) }));
    }
    expect(admin(r, 'users', 'delete', 'bob')).toEqual([
      'deleted bob: queue 2, registration_locks 0, signed_prekeys 1, one_time_prekeys 2, pq_prekeys 2, users 1, receipts 0',
      'untied from the name: envelopes it sent still queued 0 (no receipt will be sent), blobs it uploaded 0 (kept until they expire)',
    ]);
    // The relay looks for the admin tool's commits at most once a millisecond: the first look after it sees this one.
    await vi.waitFor(() => expect(r.queueDepth('bob')).toBe(0));
    expect(admin(r, 'users', 'list').map((line) => line.split('\t')[0])).toEqual(['alice']);
    expect(codeOf(await sender.request({ name: 'LOOKUP', username: 'bob' }))).toBe('USER_NOT_FOUND');
    // The relay had seen bob as a recipient just before: that memory went with the admin's commit.
    expect(codeOf(await sender.request({ name: 'SEND', to: 'bob', messageId: new Uint8Array(16).fill(3), envelope: Uint8Array.of(3) }))).toBe('USER_NOT_FOUND');
    // A new identity may take the name.
    await expectOk((await connect(r.url)).register(await createIdentity('bob')));
  });

  it('reports unknown users and invites as errors with stable codes', async () => {
    const r = await relay();
    const adminCode = (...args: string[]): string => {
      try {
        admin(r, ...args);
      } catch (error) {
        if (error instanceof AdminError) return error.code;
        throw error;
      }
      return 'no error';
    };
    expect(adminCode('users', 'ban', 'nobody')).toBe('USER_NOT_FOUND');
    expect(adminCode('users', 'unban', 'nobody')).toBe('USER_NOT_FOUND');
    expect(adminCode('users', 'delete', 'nobody')).toBe('USER_NOT_FOUND');
    expect(adminCode('invites', 'revoke', 'ffffffff')).toBe('INVITE_NOT_FOUND');
    const invite = newInvite(r);
    admin(r, 'invites', 'revoke', invite.id);
    expect(adminCode('invites', 'revoke', invite.id)).toBe('ALREADY');
  });

  it('backup copies a running relay: one started on the copy has its accounts, queue, blobs and keys, and nothing written after', async () => {
    const r = await relay();
    const [alice, bob] = await Promise.all([createIdentity('alice'), createIdentity('bob')]);
    await (await WireClient.registered(r.url, bob)).close();
    const sender = await registered(r.url, alice);
    const queued = new Uint8Array(16).fill(1);
    await expectOk(sender.request({ name: 'SEND', to: 'bob', messageId: queued, envelope: Uint8Array.of(1) }));
    const token = await sender.request({ name: 'TOKEN_REQUEST' });
    if (token.name !== 'TOKEN') throw new Error(`expected TOKEN, got ${token.name}`);
    const blob = randomBytes(1_000);
    const put = await fetch(`http://127.0.0.1:${r.port}/v1/blobs`, { method: 'PUT', headers: { authorization: `Bearer ${token.token}` }, body: blob });
    const { id: blobId } = (await put.json()) as { id: string };

    const base = await mkdtemp(join(tmpdir(), 'parley-admin-'));
    onTestFinished(() => rm(base, { recursive: true, force: true }));
    const dest = join(base, 'backup');
    const printed = admin(r, 'backup', dest);
    expect(printed[0]).toBe(`backed up ${r.dataDir} into ${dest}`);
    expect(printed[1]).toMatch(/^database \d+ bytes, 2 key files, 1 blobs$/);
    // Sent after the snapshot: the copy does not have it.
    await expectOk(sender.request({ name: 'SEND', to: 'bob', messageId: new Uint8Array(16).fill(2), envelope: Uint8Array.of(2) }));
    expect(statSync(dest).mode & 0o777).toBe(0o700);
    for (const file of ['relay.sqlite', 'token-key.pem', 'receipt-key', join('blobs', blobId)]) expect(statSync(join(dest, file)).mode & 0o777).toBe(0o600);
    // Never into a folder that holds something.
    expect(() => admin(r, 'backup', dest)).toThrow(expect.objectContaining({ code: 'BACKUP_DESTINATION_NOT_EMPTY' }));
    expect(() => runAdmin(['--data', r.dataDir, 'backup'])).toThrow(UsageError);

    const restored = await startRelay({ dataDir: dest, host: '127.0.0.1', port: 0, logLevel: 'silent' });
    onTestFinished(() => restored.close());
    const recipient = await authenticated(restored.url, bob);
    expect(await recipient.next('DELIVER')).toMatchObject({ messageId: queued, envelope: Uint8Array.of(1) });
    expect(await recipient.next()).toMatchObject({ name: 'DRAINED', count: 1 });
    // The token signed by the original relay still opens the blob: the copy has its key, and the blob's bytes.
    const got = await fetch(`http://127.0.0.1:${restored.port}/v1/blobs/${blobId}`, { headers: { authorization: `Bearer ${token.token}` } });
    expect(got.status).toBe(200);
    expect(Buffer.from(await got.arrayBuffer()).equals(blob)).toBe(true);
  });

  it('refuses a folder with no relay database (NO_RELAY_DATA), and creates nothing there', async () => {
    const base = await mkdtemp(join(tmpdir(), 'parley-admin-'));
    onTestFinished(() => rm(base, { recursive: true, force: true }));
    const missing = join(base, 'mistyped');
    const empty = join(base, 'empty');
    await mkdir(empty);
    for (const folder of [missing, empty]) {
      for (const command of [['stats'], ['invites', 'create'], ['users', 'list']]) {
        expect(() => runAdmin(['--data', folder, ...command])).toThrow(expect.objectContaining({ code: 'NO_RELAY_DATA' }));
      }
    }
    expect(existsSync(missing)).toBe(false);
    expect(await readdir(empty)).toEqual([]);
  });

  it('checks the command before it opens the database: a usage error changes nothing', async () => {
    const base = await mkdtemp(join(tmpdir(), 'parley-admin-'));
    onTestFinished(() => rm(base, { recursive: true, force: true }));
    const missing = join(base, 'mistyped');
    expect(() => runAdmin(['--data', missing, 'users', 'bam', 'alice'])).toThrow(UsageError);
    expect(() => runAdmin(['--data', missing, 'users', 'ban'])).toThrow(/users ban needs a name or id/);
    expect(() => runAdmin(['--data', missing, 'invites', 'create', '--uses', '0'])).toThrow(UsageError);
    expect(existsSync(missing)).toBe(false);
    const r = await relay();
    expect(() => admin(r, 'invites', 'create', '--expires-in', 'soon')).toThrow(UsageError);
    expect(admin(r, 'stats')).toContain('active invites 0');
  });

  it('runs as `npm run -s relay:admin`, with exit status 1 for an error and 2 for a usage error', async () => {
    const r = await relay();
    const run = (...args: string[]) => spawnSync('npm', ['run', '-s', 'relay:admin', '--', '--data', r.dataDir, ...args], { cwd: REPO_ROOT, encoding: 'utf8' });
    const stats = run('stats');
    expect(stats.status).toBe(0);
    expect(stats.stdout).toMatch(/^users 0\nbanned 0\nqueued envelopes 0\nqueued bytes 0\nactive invites 0\ndatabase bytes \d+\nblob bytes 0\ndisk free bytes \d+\n$/);
    const missing = run('users', 'ban', 'nobody');
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/^relay:admin: error USER_NOT_FOUND: no user nobody$/m);
    const bad = run('invites', 'create', '--expires-in', 'soon');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--expires-in must be like/);
    const nowhere = spawnSync('npm', ['run', '-s', 'relay:admin', '--', '--data', join(r.dataDir, 'mistyped'), 'stats'], { cwd: REPO_ROOT, encoding: 'utf8' });
    expect(nowhere.status).toBe(1);
    expect(nowhere.stderr).toMatch(/^relay:admin: error NO_RELAY_DATA: no relay database in \S+mistyped /m);
  });

  it('ships compiled beside the relay, and finds the data folder in PARLEY_RELAY_DATA as the relay does', async () => {
    const r = await relay();
    // Inside the repository, as a bundle must be to find node_modules.
    await mkdir(join(REPO_ROOT, 'dist'), { recursive: true });
    const outdir = await mkdtemp(join(REPO_ROOT, 'dist', 'admin-bundle-'));
    onTestFinished(() => rm(outdir, { recursive: true, force: true }));
    const built = spawnSync(process.execPath, ['build/bundle-relay.mjs', '--outdir', outdir], { cwd: REPO_ROOT, encoding: 'utf8' });
    expect(built.status, built.stderr).toBe(0);
    const run = (env: NodeJS.ProcessEnv, ...args: string[]) =>
      spawnSync(process.execPath, [join(outdir, 'admin.mjs'), ...args], { cwd: REPO_ROOT, encoding: 'utf8', env: { ...process.env, PARLEY_RELAY_DATA: undefined, ...env } });
    const created = run({ PARLEY_RELAY_DATA: r.dataDir }, 'invites', 'create');
    expect(created.status, created.stderr).toBe(0);
    expect(created.stdout).toMatch(/^invite [0-9a-f]{8}: \S+$/m);
    expect(admin(r, 'stats')).toContain('active invites 1');
    const nowhere = run({}, 'stats');
    expect(nowhere.status).toBe(2);
    expect(nowhere.stderr).toMatch(/--data DIR \(or PARLEY_RELAY_DATA\) is required/);
  });
});
