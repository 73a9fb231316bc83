import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3-multiple-ciphers';
import { describe, expect, it } from 'vitest';
import { MAX_ENVELOPE_BYTES, MAX_FRAME_BYTES, encodeFrame, type Frame } from '../../relay/protocol/index.js';
import { startRelay } from '../../relay/src/server.js';
import { DATABASE_FILE } from '../../relay/src/store/sqlite.js';
import { SCHEMA_VERSION } from '../../relay/src/store/migrations.js';
import { WireClient, createIdentity, expectOk, signChallenge, type TestIdentity } from '../support/wire-client.js';
import { useRelayHarness } from '../support/relay-harness.js';
import { metric } from '../support/metrics.js';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

const { relay, restart, connect, registered, authenticated } = useRelayHarness();

function messageId(): Uint8Array {
  return new Uint8Array(randomBytes(16));
}

function envelope(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

/** The relay handles a socket's frames in order, so a reply to a later request proves earlier ones (e.g. ACKs) were applied. */
async function barrier(client: WireClient): Promise<void> {
  await client.request({ name: 'LOOKUP', username: 'barrier-nobody' });
}

/** Register users on their own connections, then close them: they are known to the relay but offline. */
async function registerOffline(url: string, ...identities: TestIdentity[]): Promise<void> {
  for (const identity of identities) {
    const client = await WireClient.registered(url, identity);
    await client.close();
  }
}

function errorCode(frame: Frame): string {
  return frame.name === 'ERROR' ? frame.code : `not an ERROR but ${frame.name}`;
}

describe('relay: registration and authentication', () => {
  it('registers a user, then authenticates them on a new connection with a fresh challenge', async () => {
    const r = await relay();
    const alice = await createIdentity('alice');
    const first = await connect(r.url);
    expect(await first.register(alice)).toMatchObject({ name: 'OK' });
    expect(await first.next('DRAINED')).toMatchObject({ count: 0 });
    await first.close();

    const second = await connect(r.url);
    expect(second.nonce).toHaveLength(32);
    expect(second.nonce).not.toEqual(first.nonce);
    expect(await second.auth(alice)).toMatchObject({ name: 'OK' });
    expect(await second.next('DRAINED')).toMatchObject({ count: 0 });
  });

  it('refuses a username bound to another identity key, and treats re-registration with the same key as a login', async () => {
    const r = await relay();
    const alice = await createIdentity('alice');
    const impostor = await createIdentity('alice');
    await registerOffline(r.url, alice);

    const taken = await connect(r.url);
    expect(errorCode(await taken.register(impostor))).toBe('USERNAME_TAKEN');
    expect((await taken.closed).code).toBe(1008);

    const again = await connect(r.url);
    expect(await again.register(alice)).toMatchObject({ name: 'OK' });
  });

  it('refuses an AUTH signed by another key, and the connection closes', async () => {
    const r = await relay();
    const alice = await createIdentity('alice');
    const mallory = await createIdentity('alice');
    await registerOffline(r.url, alice);

    const client = await connect(r.url);
    expect(errorCode(await client.auth(alice, signChallenge(mallory, client.nonce)))).toBe('AUTH_FAILED');
    expect((await client.closed).code).toBe(1008);
  });

  it('refuses a signature over another connection\'s nonce (no replay)', async () => {
    const r = await relay();
    const alice = await createIdentity('alice');
    await registerOffline(r.url, alice);
    const earlier = await connect(r.url);
    const later = await connect(r.url);
    expect(errorCode(await later.auth(alice, signChallenge(alice, earlier.nonce)))).toBe('AUTH_FAILED');
  });

  it('refuses AUTH for an unknown user', async () => {
    const r = await relay();
    const ghost = await createIdentity('ghost');
    const client = await connect(r.url);
    expect(errorCode(await client.auth(ghost))).toBe('AUTH_FAILED');
  });

  it('refuses a REGISTER whose challenge signature is forged', async () => {
    const r = await relay();
    const alice = await createIdentity('alice');
    const mallory = await createIdentity('mallory');
    const client = await connect(r.url);
    expect(errorCode(await client.register(alice, { signature: signChallenge(mallory, client.nonce, 'alice') }))).toBe('AUTH_FAILED');
  });

  it('refuses a REGISTER whose agreementSig does not verify under the identity key', async () => {
    const r = await relay();
    const alice = await createIdentity('alice');
    const other = await createIdentity('other');
    const client = await connect(r.url);
    expect(errorCode(await client.register(alice, { agreementSig: other.agreementSig }))).toBe('AUTH_FAILED');
    const lookup = await connect(r.url);
    await expectOk(lookup.register(other));
    expect(errorCode(await lookup.request({ name: 'LOOKUP', username: 'alice' }))).toBe('USER_NOT_FOUND');
  });

  it.each(['Alice', 'ab', '-alice', 'alice!', 'a'.repeat(33)])('refuses the invalid username %j', async (username) => {
    const r = await relay();
    const identity = await createIdentity(username);
    const client = await connect(r.url);
    expect(errorCode(await client.register(identity))).toBe('USERNAME_INVALID');
  });

  it('answers AUTH_REQUIRED to requests before authentication, and still accepts REGISTER after', async () => {
    const r = await relay();
    const client = await connect(r.url);
    expect(errorCode(await client.request({ name: 'LOOKUP', username: 'alice' }))).toBe('AUTH_REQUIRED');
    expect(errorCode(await client.request({ name: 'SEND', to: 'alice', messageId: messageId(), envelope: envelope('x') }))).toBe(
      'AUTH_REQUIRED',
    );
    expect(await client.register(await createIdentity('alice'))).toMatchObject({ name: 'OK' });
  });

  it('answers AUTH_ALREADY to a second AUTH on an authenticated connection', async () => {
    const r = await relay();
    const alice = await createIdentity('alice');
    const client = await registered(r.url, alice);
    expect(errorCode(await client.auth(alice))).toBe('AUTH_ALREADY');
  });

  it('closes unauthenticated sockets after the auth timeout, and not authenticated ones', async () => {
    const r = await relay({ authTimeoutMs: 300 });
    const alice = await createIdentity('alice');
    const early = await registered(r.url, alice);
    const idle = await connect(r.url);
    expect(await idle.closed).toMatchObject({ code: 1008 });
    // early connected first, so its timer would have fired before idle's had it not been cleared.
    expect(await early.request({ name: 'LOOKUP', username: 'alice' })).toMatchObject({ name: 'USER' });
  });

  it('replaces an older connection of the same user with a newer one', async () => {
    const r = await relay();
    const alice = await createIdentity('alice');
    const bob = await createIdentity('bob');
    const old = await registered(r.url, alice);
    const newer = await authenticated(r.url, alice);
    expect(await old.closed).toMatchObject({ code: 4001 });

    const sender = await registered(r.url, bob);
    await expectOk(sender.request({ name: 'SEND', to: 'alice', messageId: messageId(), envelope: envelope('to the newer one') }));
    expect((await newer.next('DELIVER')).envelope).toEqual(envelope('to the newer one'));
  });
});

describe('relay: directory', () => {
  it('serves the registered public keys, or USER_NOT_FOUND', async () => {
    const r = await relay();
    const alice = await createIdentity('alice');
    const bob = await createIdentity('bob');
    await registerOffline(r.url, bob);
    const client = await registered(r.url, alice);

    expect(await client.request({ name: 'LOOKUP', username: 'bob' })).toEqual({
      name: 'USER',
      requestId: expect.any(Number),
      username: 'bob',
      identityKey: bob.identityKey,
      agreementKey: bob.agreementKey,
      agreementSig: bob.agreementSig,
    });
    expect(errorCode(await client.request({ name: 'LOOKUP', username: 'nobody' }))).toBe('USER_NOT_FOUND');
  });
});

describe('relay: delivery', () => {
  it('pushes an envelope to an online recipient at once, and ACK removes it', async () => {
    const r = await relay();
    const [alice, bob] = await Promise.all([createIdentity('alice'), createIdentity('bob')]);
    const sender = await registered(r.url, alice);
    const recipient = await registered(r.url, bob);
    const id = messageId();

    const reply = await sender.request({ name: 'SEND', to: 'bob', messageId: id, envelope: envelope('hello bob') });
    expect(reply).toMatchObject({ name: 'OK' });
    const delivered = await recipient.next('DELIVER');
    expect(delivered).toMatchObject({ requestId: 0, messageId: id, envelope: envelope('hello bob') });
    expect(delivered.receivedAt).toBeGreaterThan(0);
    expect(r.queueDepth('bob')).toBe(1);

    recipient.post({ name: 'ACK', messageId: id });
    await barrier(recipient);
    expect(r.queueDepth('bob')).toBe(0);
  });

  it('queues for an offline recipient and delivers in arrival order on connect, then DRAINED', async () => {
    const r = await relay();
    const [alice, bob] = await Promise.all([createIdentity('alice'), createIdentity('bob')]);
    await registerOffline(r.url, bob);
    const sender = await registered(r.url, alice);
    const sent = ['one', 'two', 'three'].map((text) => ({ id: messageId(), body: envelope(text) }));
    for (const { id, body } of sent) await expectOk(sender.request({ name: 'SEND', to: 'bob', messageId: id, envelope: body }));
    expect(r.queueDepth('bob')).toBe(3);

    const recipient = await authenticated(r.url, bob);
    const frames = [await recipient.next(), await recipient.next(), await recipient.next(), await recipient.next()];
    expect(frames.map((frame) => frame.name)).toEqual(['DELIVER', 'DELIVER', 'DELIVER', 'DRAINED']);
    expect(frames.slice(0, 3)).toMatchObject(sent.map(({ id, body }) => ({ messageId: id, envelope: body })));
    expect(frames[3]).toMatchObject({ count: 3 });

    for (const { id } of sent) recipient.post({ name: 'ACK', messageId: id });
    await barrier(recipient);
    expect(r.queueDepth('bob')).toBe(0);
  });

  it('delivers a SEND that comes while its recipient is still receiving its queue after that queue, and once', async () => {
    // With half of maxBufferedBytes pending the drain waits for the socket; a recipient that does not read holds it there.
    const r = await relay({ maxBufferedBytes: 512 * 1024, rateLimits: { messages: { points: 10_000, durationMs: 1_000 } } });
    const [alice, bob] = await Promise.all([createIdentity('alice'), createIdentity('bob')]);
    await registerOffline(r.url, bob);
    const sender = await registered(r.url, alice);
    // More than the loopback TCP buffers (a few MiB) and that half take.
    const queued = Array.from({ length: 120 }, () => messageId());
    for (const id of queued) await expectOk(sender.request({ name: 'SEND', to: 'bob', messageId: id, envelope: new Uint8Array(MAX_ENVELOPE_BYTES) }));

    const recipient = await connect(r.url);
    const authenticated = recipient.auth(bob);
    recipient.pause();
    // The drain starts in the turn that handles the AUTH and runs until it waits: once a DELIVER is out, it is waiting.
    const deliversOut = (): Promise<number> => metric(r, 'parley_frames_out_total{type="DELIVER"}');
    while ((await deliversOut()) === 0) continue;
    expect(await deliversOut()).toBeLessThan(queued.length);
    const late = messageId();
    await expectOk(sender.request({ name: 'SEND', to: 'bob', messageId: late, envelope: envelope('late') }));

    recipient.resume();
    await expectOk(authenticated);
    const drained = await recipient.next('DRAINED');
    const delivered: string[] = [];
    while (recipient.unread('DELIVER') > 0) delivered.push(Buffer.from((await recipient.next('DELIVER')).messageId).toString('hex'));
    expect(delivered).toEqual([...queued, late].map((id) => Buffer.from(id).toString('hex')));
    expect(drained.count).toBe(queued.length + 1);
  });

  it('redelivers an unacked envelope on the next connection', async () => {
    const r = await relay();
    const [alice, bob] = await Promise.all([createIdentity('alice'), createIdentity('bob')]);
    await registerOffline(r.url, bob);
    const sender = await registered(r.url, alice);
    const acked = messageId();
    const unacked = messageId();
    await expectOk(sender.request({ name: 'SEND', to: 'bob', messageId: acked, envelope: envelope('acked') }));
    await expectOk(sender.request({ name: 'SEND', to: 'bob', messageId: unacked, envelope: envelope('unacked') }));

    const first = await authenticated(r.url, bob);
    expect(await first.next('DRAINED')).toMatchObject({ count: 2 });
    first.post({ name: 'ACK', messageId: acked });
    await barrier(first);
    await first.close();

    const second = await authenticated(r.url, bob);
    expect(await second.next('DELIVER')).toMatchObject({ messageId: unacked, envelope: envelope('unacked') });
    expect(await second.next('DRAINED')).toMatchObject({ count: 1 });
  });

  it('accepts a duplicate messageId with OK but queues it once', async () => {
    const r = await relay();
    const [alice, bob] = await Promise.all([createIdentity('alice'), createIdentity('bob')]);
    await registerOffline(r.url, bob);
    const sender = await registered(r.url, alice);
    const id = messageId();
    await expectOk(sender.request({ name: 'SEND', to: 'bob', messageId: id, envelope: envelope('first') }));
    await expectOk(sender.request({ name: 'SEND', to: 'bob', messageId: id, envelope: envelope('retry') }));
    expect(r.queueDepth('bob')).toBe(1);

    const recipient = await authenticated(r.url, bob);
    expect(await recipient.next('DELIVER')).toMatchObject({ messageId: id, envelope: envelope('first') });
    expect(await recipient.next('DRAINED')).toMatchObject({ count: 1 });
  });

  it('keeps every queued envelope and user across a restart on the same data dir', async () => {
    const r = await relay();
    const [alice, bob] = await Promise.all([createIdentity('alice'), createIdentity('bob')]);
    await registerOffline(r.url, bob);
    const sender = await registered(r.url, alice);
    const sent = Array.from({ length: 5 }, (_, i) => ({ id: messageId(), body: envelope(`before restart ${i}`) }));
    for (const { id, body } of sent) await expectOk(sender.request({ name: 'SEND', to: 'bob', messageId: id, envelope: body }));
    await sender.close();

    const restarted = await restart(r);
    expect(restarted.queueDepth('bob')).toBe(5);
    const recipient = await authenticated(restarted.url, bob);
    const delivered = await Promise.all(sent.map(() => recipient.next('DELIVER')));
    expect(delivered).toMatchObject(sent.map(({ id, body }) => ({ messageId: id, envelope: body })));
    expect(await recipient.next('DRAINED')).toMatchObject({ count: 5 });
    await authenticated(restarted.url, alice);
  });

  it('refuses SEND to an unknown user', async () => {
    const r = await relay();
    const sender = await registered(r.url, await createIdentity('alice'));
    const reply = await sender.request({ name: 'SEND', to: 'nobody', messageId: messageId(), envelope: envelope('x') });
    expect(errorCode(reply)).toBe('USER_NOT_FOUND');
  });

  it('refuses an envelope over MAX_ENVELOPE_BYTES and accepts one of exactly that size', async () => {
    const r = await relay();
    const [alice, bob] = await Promise.all([createIdentity('alice'), createIdentity('bob')]);
    await registerOffline(r.url, bob);
    const sender = await registered(r.url, alice);
    const tooLarge = new Uint8Array(MAX_ENVELOPE_BYTES + 1);
    expect(errorCode(await sender.request({ name: 'SEND', to: 'bob', messageId: messageId(), envelope: tooLarge }))).toBe(
      'ENVELOPE_TOO_LARGE',
    );
    const largest = new Uint8Array(MAX_ENVELOPE_BYTES);
    expect(await sender.request({ name: 'SEND', to: 'bob', messageId: messageId(), envelope: largest })).toMatchObject({ name: 'OK' });
    expect(r.queueDepth('bob')).toBe(1);
  });

  it('answers QUEUE_FULL when the recipient queue is at maxQueuedPerUser', async () => {
    const r = await relay({ maxQueuedPerUser: 2 });
    const [alice, bob] = await Promise.all([createIdentity('alice'), createIdentity('bob')]);
    await registerOffline(r.url, bob);
    const sender = await registered(r.url, alice);
    const first = messageId();
    await expectOk(sender.request({ name: 'SEND', to: 'bob', messageId: first, envelope: envelope('1') }));
    await expectOk(sender.request({ name: 'SEND', to: 'bob', messageId: messageId(), envelope: envelope('2') }));
    const third = await sender.request({ name: 'SEND', to: 'bob', messageId: messageId(), envelope: envelope('3') });
    expect(errorCode(third)).toBe('QUEUE_FULL');
    // A retry of a queued envelope is still a success: it is already there.
    await expectOk(sender.request({ name: 'SEND', to: 'bob', messageId: first, envelope: envelope('1') }));
    expect(r.queueDepth('bob')).toBe(2);
  });
});

describe('relay: hostile input', () => {
  const validAck = encodeFrame({ name: 'ACK', requestId: 1, messageId: new Uint8Array(16) });
  const wrongVersion = Uint8Array.from([2, ...validAck.subarray(1)]);

  it.each<[string, Uint8Array | string, string | undefined, number]>([
    ['a truncated frame', validAck.subarray(0, 10), 'PROTO_MALFORMED_FRAME', 1002],
    ['a wrong protocol version', wrongVersion, 'PROTO_UNSUPPORTED_VERSION', 1002],
    ['an unknown frame type', Uint8Array.of(1, 0x7f, 0, 0, 0, 1), 'PROTO_UNKNOWN_TYPE', 1002],
    ['a text frame', 'hello', 'PROTO_MALFORMED_FRAME', 1003],
    ['a frame over maxFrameBytes', new Uint8Array(MAX_FRAME_BYTES + 1), undefined, 1009],
  ])('%s: the offender is refused and closed, everyone else is still served', async (_label, payload, code, closeCode) => {
    const r = await relay();
    const [alice, bob] = await Promise.all([createIdentity('alice'), createIdentity('bob')]);
    const bystander = await registered(r.url, alice);
    const recipient = await registered(r.url, bob);

    const offender = await connect(r.url);
    offender.sendRaw(payload);
    if (code !== undefined) expect(await offender.next('ERROR')).toMatchObject({ requestId: 0, code });
    expect((await offender.closed).code).toBe(closeCode);

    const id = messageId();
    await expectOk(bystander.request({ name: 'SEND', to: 'bob', messageId: id, envelope: envelope('still here') }));
    expect(await recipient.next('DELIVER')).toMatchObject({ messageId: id });
    expect(await bystander.request({ name: 'LOOKUP', username: 'bob' })).toMatchObject({ name: 'USER' });
  });

  it('reassembles a request sent in fragments and answers a ping, then keeps serving the connection (ws reads for it from then on)', async () => {
    const r = await relay();
    const [alice, bob] = await Promise.all([createIdentity('alice'), createIdentity('bob')]);
    const recipient = await registered(r.url, bob);
    const client = await registered(r.url, alice);
    expect(await client.requestInFragments({ name: 'LOOKUP', username: 'bob' }, 5)).toMatchObject({ name: 'USER', username: 'bob' });
    await client.ping();
    const id = messageId();
    await expectOk(client.requestInFragments({ name: 'SEND', to: 'bob', messageId: id, envelope: envelope('in pieces') }, 30));
    expect(await recipient.next('DELIVER')).toMatchObject({ messageId: id, envelope: envelope('in pieces') });
    await expectOk(client.request({ name: 'SEND', to: 'bob', messageId: messageId(), envelope: envelope('whole') }));
    expect(await recipient.next('DELIVER')).toMatchObject({ envelope: envelope('whole') });
  });

  it('closes a connection that sends an unmasked frame (1002), after serving what came before it, and logs why', async () => {
    const logged: Array<[string, unknown]> = [];
    const r = await relay({}, { log: (event, fields) => void logged.push([event, fields]) });
    const client = await registered(r.url, await createIdentity('alice'));
    expect(await client.request({ name: 'LOOKUP', username: 'alice' })).toMatchObject({ name: 'USER' });
    client.sendRaw(encodeFrame({ name: 'LOOKUP', requestId: 99, username: 'alice' }), { mask: false });
    expect((await client.closed).code).toBe(1002);
    // ws's own code for the refusal, and the connection's number, as RELAY.md's socket_error row says.
    expect(logged.filter(([event]) => event === 'socket_error')).toEqual([['socket_error', { conn: expect.any(Number), code: 'WS_ERR_EXPECTED_MASK' }]]);
  });

  it('answers PROTO_UNEXPECTED_FRAME to a frame only the relay sends, and keeps serving the connection', async () => {
    const r = await relay();
    const client = await registered(r.url, await createIdentity('alice'));
    client.sendRaw(encodeFrame({ name: 'OK', requestId: 77 }));
    expect(await client.next('ERROR')).toMatchObject({ requestId: 77, code: 'PROTO_UNEXPECTED_FRAME' });
    expect(await client.request({ name: 'LOOKUP', username: 'alice' })).toMatchObject({ name: 'USER' });
  });
});

describe('relay: storage', () => {
  it('records the schema version in the database and stores no sender for queued envelopes', async () => {
    const r = await relay();
    const dataDir = r.dataDir;
    await registerOffline(r.url, await createIdentity('bob'));
    const restarted = await restart(r);
    await restarted.close();
    const reopened = await startRelay({ dataDir, port: 0 });
    await reopened.close();

    const db = new Database(join(dataDir, DATABASE_FILE), { readonly: true });
    try {
      expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
      const columns = db.prepare<[], { name: string }>('SELECT name FROM pragma_table_info(\'queue\')').all().map((c) => c.name);
      expect(columns).toContain('recipient');
      expect(columns.filter((name) => /sender|from/i.test(name))).toEqual([]);
    } finally {
      db.close();
    }
  });

  it('refuses to open a database written by a newer relay', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'parley-relay-'));
    try {
      const db = new Database(join(dataDir, DATABASE_FILE));
      db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
      db.close();
      await expect(startRelay({ dataDir, port: 0 })).rejects.toThrow(/schema version/);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

describe('relay: command line', () => {
  function runCli(args: string[]) {
    const child = spawn(join(REPO_ROOT, 'node_modules/.bin/tsx'), ['relay/src/cli.ts', ...args], { cwd: REPO_ROOT });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (exitCode) => resolve(exitCode)));
    const line = (pattern: RegExp): Promise<RegExpMatchArray> =>
      new Promise((resolve, reject) => {
        const check = (): void => {
          const match = stdout.match(pattern);
          if (match !== null) {
            child.stdout.off('data', check);
            resolve(match);
          }
        };
        child.stdout.on('data', check);
        void exited.then(() => reject(new Error(`relay exited before printing ${pattern}; stderr: ${stderr}`)));
        check();
      });
    return { child, exited, line, output: () => ({ stdout, stderr }) };
  }

  it('prints the listening url, serves clients on it, and exits 0 on SIGTERM', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'parley-relay-cli-'));
    const cli = runCli(['--port', '0', '--data', dataDir]);
    try {
      const [printed, port] = await cli.line(/^listening on ws:\/\/127\.0\.0\.1:(\d+)$/m);
      expect(Number(port)).toBeGreaterThan(0);
      const client = await WireClient.connect(`ws://127.0.0.1:${port}`);
      expect(client.nonce).toHaveLength(32);
      await expectOk(client.register(await createIdentity('alice')));

      cli.child.kill('SIGTERM');
      expect(await client.closed).toMatchObject({ code: 1001 });
      expect(await cli.exited).toBe(0);
      expect(cli.output().stdout).toBe(`${printed}\n`);
    } finally {
      cli.child.kill('SIGKILL');
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('exits non-zero with one line on stderr for a bad flag', async () => {
    const cli = runCli(['--port', 'seven', '--data', 'unused']);
    expect(await cli.exited).not.toBe(0);
    const { stdout, stderr } = cli.output();
    expect(stdout).toBe('');
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).toMatch(/^relay: --port/);
  });
});
