import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { MAX_ENVELOPE_BYTES, decodeOneTimePrekeys, encodeOneTimePrekeys, encodePqPrekeys, signedPrekeyTranscript, type Frame } from '../../relay/protocol/index.js';
import { DEFAULT_MAX_QUEUE_AGE_MS } from '../../relay/src/options.js';
import type { TestRelay } from '../support/relay.js';
import { key, pqEntry, publishAll, sign } from '../support/prekeys.js';
import { WireClient, createIdentity, expectOk, type TestIdentity } from '../support/wire-client.js';
import { useRelayHarness } from '../support/relay-harness.js';
import { metric } from '../support/metrics.js';

const { relay, restart, track, registered, authenticated } = useRelayHarness();

function messageId(): Uint8Array {
  return new Uint8Array(randomBytes(16));
}

function bytes(length: number): Uint8Array {
  return new Uint8Array(randomBytes(length));
}

function errorOf(frame: Frame): { code: string; retryAfterMs: number } {
  if (frame.name !== 'ERROR') throw new Error(`expected an ERROR, got ${frame.name}`);
  return { code: frame.code, retryAfterMs: frame.retryAfterMs };
}

/** A clock the test moves by hand, for the age and ttl limits. */
function manualClock(start = 1_800_000_000_000): { now: () => number; advance: (ms: number) => void } {
  let time = start;
  return { now: () => time, advance: (ms) => (time += ms) };
}

/** The relay's count of connections cut off for this reason. */
function cutOffs(r: TestRelay, reason: string): Promise<number> {
  return metric(r, `parley_connections_cut_total{reason="${reason}"}`);
}

/** How many times the relay stopped reading a socket for this reason. */
function pauses(r: TestRelay, reason: 'backlog' | 'refusal'): Promise<number> {
  return metric(r, `parley_reads_paused_total{reason="${reason}"}`);
}

/** A bare TCP connection to the relay that sends nothing unless told to; resolves once connected. */
function rawSocket(port: number): Promise<{ socket: Socket; closed: Promise<void>; isOpen: () => boolean }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let open = true;
    const closed = new Promise<void>((done) => socket.once('close', () => done(void (open = false))));
    socket.once('error', reject);
    socket.once('connect', () => {
      socket.on('error', () => undefined); // the relay dropping it is the expected end
      resolve({ socket, closed, isOpen: () => open });
    });
  });
}

async function registerOffline(url: string, ...identities: TestIdentity[]): Promise<void> {
  for (const identity of identities) await (await WireClient.registered(url, identity)).close();
}

describe('relay limits: hostile and slow clients', () => {
  it('cuts off a socket that stops answering pings, and keeps one that answers', async () => {
    const r = await relay({ pingIntervalMs: 50 });
    const [alice, bob] = await Promise.all([createIdentity('alice'), createIdentity('bob')]);
    const silent = track(await WireClient.connect(r.url, { autoPong: false }));
    await expectOk(silent.register(alice));
    const lively = await registered(r.url, bob);

    expect((await silent.closed).code).not.toBe(1000);
    await lively.pings(4);
    expect(await lively.request({ name: 'LOOKUP', username: 'bob' })).toMatchObject({ name: 'USER' });
    // The cut-off user comes back on a new connection.
    await authenticated(r.url, alice);
  });

  it('keeps a socket that never answers a ping while it sends frames: any frame shows it is there', async () => {
    const r = await relay({ pingIntervalMs: 50 });
    const client = track(await WireClient.connect(r.url, { autoPong: false }));
    await expectOk(client.register(await createIdentity('alice')));
    for (let ping = 1; ping <= 4; ping++) {
      const cut = await Promise.race([client.pings(ping).then(() => false), client.closed.then(() => true)]);
      expect(cut, `cut off before ping ${ping}`).toBe(false);
      // Not a pong: an ACK of nothing, which the relay answers with nothing.
      client.post({ name: 'ACK', messageId: new Uint8Array(16) });
    }
    expect(await client.request({ name: 'LOOKUP', username: 'alice' })).toMatchObject({ name: 'USER' });
    expect(await cutOffs(r, "idle")).toBe(0);
  });

  it('cuts off a reader too slow for maxBufferedBytes; what it missed stays queued and arrives on reconnect', async () => {
    const r = await relay({ maxBufferedBytes: 256 * 1024, rateLimits: { messages: { points: 10_000, durationMs: 1_000 } } });
    const [alice, bob] = await Promise.all([createIdentity('alice'), createIdentity('bob')]);
    const sender = await registered(r.url, alice);
    const slow = await registered(r.url, bob);
    await slow.next('DRAINED');
    slow.pause();

    let sent = 0;
    // Loopback TCP buffers take a few MiB before the relay's own buffer grows; 64 MiB is far past both.
    while ((await cutOffs(r, 'slow_reader')) === 0 && sent < 1024) {
      await expectOk(sender.request({ name: 'SEND', to: 'bob', messageId: messageId(), envelope: bytes(MAX_ENVELOPE_BYTES) }));
      sent += 1;
    }
    expect(await cutOffs(r, 'slow_reader')).toBe(1);
    // A paused socket does not see its own end: read again to find the connection cut.
    slow.resume();
    expect((await slow.closed).code).toBe(1006);
    expect(r.queueDepth('bob')).toBe(sent);

    const back = await authenticated(r.url, bob);
    expect(await back.next('DRAINED')).toMatchObject({ count: sent });
    expect(back.unread('DELIVER')).toBe(sent);
  });

  it('handles a flood of pipelined requests in order without reading past maxPipelinedFrames', async () => {
    // A lookup budget above the flood: each LOOKUP waits for the limiter, so every one of them passes through the backlog.
    const r = await relay({ maxPipelinedFrames: 4, rateLimits: { lookups: { points: 1_000, durationMs: 60_000 } } });
    const client = await registered(r.url, await createIdentity('alice'));
    const names = Array.from({ length: 300 }, (_, i) => `nobody-${i}`);
    const replies = await Promise.all(names.map((username) => client.request({ name: 'LOOKUP', username })));
    expect(replies.map((frame) => errorOf(frame).code)).toEqual(names.map(() => 'USER_NOT_FOUND'));
    expect(await client.request({ name: 'LOOKUP', username: 'alice' })).toMatchObject({ name: 'USER' });
    // The flood came in faster than it was handled: the relay stopped reading it, rather than holding it all.
    expect(await pauses(r, 'backlog')).toBeGreaterThan(0);
    expect(await pauses(r, 'refusal')).toBe(0);
  });
});

describe('relay limits: connections', () => {
  it('turns away a connection past maxConnectionsPerIp with TOO_MANY_CONNECTIONS, and accepts again once one closes', async () => {
    const r = await relay({ maxConnectionsPerIp: 2 });
    const first = track(await WireClient.connect(r.url));
    track(await WireClient.connect(r.url));

    const third = track(await WireClient.open(r.url));
    expect(errorOf(await third.next('ERROR')).code).toBe('TOO_MANY_CONNECTIONS');
    expect((await third.closed).code).toBe(1013);

    await first.close();
    const fourth = track(await WireClient.connect(r.url));
    expect(fourth.nonce).toHaveLength(32);
  });

  it('behind a trusted proxy counts the forwarded client address; anyone else\'s X-Forwarded-For is ignored', async () => {
    const forwardedFor = (address: string): { headers: Record<string, string> } => ({ headers: { 'x-forwarded-for': address } });
    const behindProxy = await relay({ maxConnectionsPerIp: 1, trustedProxies: ['loopback'] });
    track(await WireClient.connect(behindProxy.url, forwardedFor('203.0.113.5')));
    // Another client behind the same proxy is another address.
    expect(track(await WireClient.connect(behindProxy.url, forwardedFor('198.51.100.7'))).nonce).toHaveLength(32);
    // A client cannot escape its address by prepending one: the proxy appends the real one last.
    const sameClient = track(await WireClient.open(behindProxy.url, forwardedFor('192.0.2.1, 203.0.113.5')));
    expect(errorOf(await sameClient.next('ERROR')).code).toBe('TOO_MANY_CONNECTIONS');

    // Without trusted proxies the header means nothing: both share the socket's address.
    const direct = await relay({ maxConnectionsPerIp: 1 });
    track(await WireClient.connect(direct.url, forwardedFor('203.0.113.5')));
    const spoofed = track(await WireClient.open(direct.url, forwardedFor('198.51.100.7')));
    expect(errorOf(await spoofed.next('ERROR')).code).toBe('TOO_MANY_CONNECTIONS');
  });

  it('drops a socket that sends no request within handshakeTimeoutMs, and one that dribbles its headers; finished handshakes stay', async () => {
    const r = await relay({ handshakeTimeoutMs: 300 });
    const alice = await createIdentity('alice');
    // Connected first: its timer, had it not been cleared by the upgrade, would fire before the others'.
    const early = await registered(r.url, alice);
    const silent = await rawSocket(r.port);
    const dribbling = await rawSocket(r.port);
    dribbling.socket.write('GET /healthz HTTP/1.1\r\n');
    const drip = setInterval(() => dribbling.socket.write('X-Slow: 1\r\n'), 50);
    await Promise.all([silent.closed, dribbling.closed]);
    clearInterval(drip);

    expect(await cutOffs(r, 'handshake_timeout')).toBe(2);
    expect(await early.request({ name: 'LOOKUP', username: 'alice' })).toMatchObject({ name: 'USER' });
    expect((await fetch(`http://127.0.0.1:${r.port}/healthz`)).status).toBe(200);
  });

  it('drops sockets past maxHandshakesPerIp at once, not counting upgraded ones, and accepts again once pending ones go', async () => {
    const r = await relay({ maxHandshakesPerIp: 2, handshakeTimeoutMs: 1_000 });
    // Upgraded connections are no longer pending: more of them than the cap connect one after another.
    for (let i = 0; i < 3; i++) track(await WireClient.connect(r.url));
    const first = await rawSocket(r.port);
    const second = await rawSocket(r.port);
    const third = await rawSocket(r.port);
    await third.closed;
    // Dropped on arrival, not timed out: the two before it are still waiting.
    expect([first.isOpen(), second.isOpen()]).toEqual([true, true]);
    await expect(WireClient.open(r.url)).rejects.toThrow();

    await Promise.all([first.closed, second.closed]);
    expect(track(await WireClient.connect(r.url)).nonce).toHaveLength(32);
    expect(await metric(r, 'parley_rate_limited_total{limit="handshakes"}')).toBe(2);
    expect(await cutOffs(r, 'handshake_timeout')).toBe(2);
  });

  it('does not count a trusted proxy\'s sockets against maxHandshakesPerIp', async () => {
    const behindProxy = await relay({ maxHandshakesPerIp: 1, handshakeTimeoutMs: 60_000, trustedProxies: ['loopback'] });
    const silent = await rawSocket(behindProxy.port);
    expect(track(await WireClient.connect(behindProxy.url)).nonce).toHaveLength(32);
    silent.socket.destroy();
  });

  it('refuses to start with a trusted proxy that is not an address, a range or a known name', async () => {
    await expect(relay({ trustedProxies: ['not-an-address'] })).rejects.toThrow(/trustedProxies/);
  });

  it('rate-limits new connections per IP with RATE_LIMITED and a retryAfterMs, then lets the client back in', async () => {
    const r = await relay({ rateLimits: { connections: { points: 2, durationMs: 400 } } });
    track(await WireClient.connect(r.url));
    track(await WireClient.connect(r.url));

    const limited = track(await WireClient.open(r.url));
    const refusal = errorOf(await limited.next('ERROR'));
    expect(refusal.code).toBe('RATE_LIMITED');
    expect(refusal.retryAfterMs).toBeGreaterThan(0);
    expect(refusal.retryAfterMs).toBeLessThanOrEqual(400);
    expect((await limited.closed).code).toBe(1013);

    await delay(refusal.retryAfterMs);
    expect(track(await WireClient.connect(r.url)).nonce).toHaveLength(32);
  });
});

describe('relay limits: rate limits on requests', () => {
  it('rate-limits SEND per identity with RATE_LIMITED (the envelope is not queued), and accepts after retryAfterMs', async () => {
    const r = await relay({ rateLimits: { messages: { points: 3, durationMs: 400 } } });
    const [alice, bob, carol] = await Promise.all([createIdentity('alice'), createIdentity('bob'), createIdentity('carol')]);
    await registerOffline(r.url, bob);
    const sender = await registered(r.url, alice);
    for (let i = 0; i < 3; i++) await expectOk(sender.request({ name: 'SEND', to: 'bob', messageId: messageId(), envelope: bytes(8) }));

    const refusal = errorOf(await sender.request({ name: 'SEND', to: 'bob', messageId: messageId(), envelope: bytes(8) }));
    expect(refusal.code).toBe('RATE_LIMITED');
    expect(refusal.retryAfterMs).toBeGreaterThan(0);
    expect(r.queueDepth('bob')).toBe(3);
    // The budget is per identity: another sender is not affected.
    const other = await registered(r.url, carol);
    await expectOk(other.request({ name: 'SEND', to: 'bob', messageId: messageId(), envelope: bytes(8) }));

    await delay(refusal.retryAfterMs);
    await expectOk(sender.request({ name: 'SEND', to: 'bob', messageId: messageId(), envelope: bytes(8) }));
    expect(r.queueDepth('bob')).toBe(5);
  });

  it('rate-limits LOOKUP per identity with RATE_LIMITED and a retryAfterMs, and answers again after it', async () => {
    // A window longer than the relay's pause in reading after a refusal, so the request after a refused one still falls in it.
    const r = await relay({ rateLimits: { lookups: { points: 2, durationMs: 2_500 } } });
    const [alice, bob, carol] = await Promise.all([createIdentity('alice'), createIdentity('bob'), createIdentity('carol')]);
    await registerOffline(r.url, bob);
    const walker = await registered(r.url, alice);
    expect(await walker.request({ name: 'LOOKUP', username: 'bob' })).toMatchObject({ name: 'USER' });
    expect(errorOf(await walker.request({ name: 'LOOKUP', username: 'nobody' })).code).toBe('USER_NOT_FOUND');

    // Past the budget, a name that exists and one that does not get the same answer: nothing is learnt.
    const refusals = [errorOf(await walker.request({ name: 'LOOKUP', username: 'bob' })), errorOf(await walker.request({ name: 'LOOKUP', username: 'nobody' }))];
    expect(refusals.map((refusal) => refusal.code)).toEqual(['RATE_LIMITED', 'RATE_LIMITED']);
    expect(refusals[0]?.retryAfterMs).toBeGreaterThan(0);
    // The budget is per identity.
    const other = await registered(r.url, carol);
    expect(await other.request({ name: 'LOOKUP', username: 'bob' })).toMatchObject({ name: 'USER' });

    await delay(Math.max(...refusals.map((refusal) => refusal.retryAfterMs)));
    expect(await walker.request({ name: 'LOOKUP', username: 'bob' })).toMatchObject({ name: 'USER' });
  });

  it('rate-limits FETCH_PREKEYS per identity and target, so no one-time key is handed out past it, and serves again after retryAfterMs', async () => {
    const r = await relay({ rateLimits: { prekeyFetches: { points: 1, durationMs: 400 } } });
    const [alice, bob, carol] = await Promise.all([createIdentity('alice'), createIdentity('bob'), createIdentity('carol')]);
    await publishAll(await registered(r.url, bob), bob);
    await publishAll(await registered(r.url, carol), carol);
    const fetcher = await registered(r.url, alice);
    const oneTimeKeyOf = async (username: string): Promise<number[] | string> => {
      const reply = await fetcher.request({ name: 'FETCH_PREKEYS', username });
      return reply.name === 'PREKEY_BUNDLE' ? (decodeOneTimePrekeys(reply.oneTimePrekey) ?? []).map((entry) => entry.keyId) : errorOf(reply).code;
    };
    expect(await oneTimeKeyOf('bob')).toEqual([11]);
    const refusal = errorOf(await fetcher.request({ name: 'FETCH_PREKEYS', username: 'bob' }));
    expect(refusal.code).toBe('RATE_LIMITED');
    expect(refusal.retryAfterMs).toBeGreaterThan(0);
    // Another target has a budget of its own.
    expect(await oneTimeKeyOf('carol')).toEqual([11]);

    await delay(refusal.retryAfterMs);
    // The refused fetch took nothing: bob's second key is the next one handed out.
    expect(await oneTimeKeyOf('bob')).toEqual([12]);
  });

  it('rate-limits token requests, prekey publishes and TOTP setups together per identity, and serves them again after retryAfterMs', async () => {
    // Longer than the three pauses in reading that follow the refusals, so all three requests fall in it.
    const r = await relay({ rateLimits: { requests: { points: 2, durationMs: 4_000 } } });
    const [alice, bob] = await Promise.all([createIdentity('alice'), createIdentity('bob')]);
    const client = await registered(r.url, alice);
    expect((await client.request({ name: 'TOKEN_REQUEST' })).name).toBe('TOKEN');
    await expectOk(client.request({ name: 'PUBLISH_ONE_TIME_PREKEYS', prekeys: encodeOneTimePrekeys([{ keyId: 1, publicKey: bytes(32) }]) }));

    // One budget for all three: the third request of any of them is refused, and not carried out.
    const refusals = [
      errorOf(await client.request({ name: 'TOTP_SETUP' })),
      errorOf(await client.request({ name: 'PUBLISH_ONE_TIME_PREKEYS', prekeys: encodeOneTimePrekeys([{ keyId: 2, publicKey: bytes(32) }]) })),
      errorOf(await client.request({ name: 'TOKEN_REQUEST' })),
    ];
    expect(refusals.map((refusal) => refusal.code)).toEqual(['RATE_LIMITED', 'RATE_LIMITED', 'RATE_LIMITED']);
    expect(await metric(r, 'parley_rate_limited_total{limit="requests"}')).toBe(3);

    await delay(Math.max(...refusals.map((refusal) => refusal.retryAfterMs)));
    await expectOk(client.request({ name: 'PUBLISH_SIGNED_PREKEY', keyId: 5, publicKey: key(5), signature: sign(alice, signedPrekeyTranscript(5, key(5))) }));
    await expectOk(client.request({ name: 'PUBLISH_PQ_PREKEYS', prekeys: encodePqPrekeys([pqEntry(alice, 29, true)]) }));
    // The refused publish stored nothing: key 1 is handed out, then none.
    const fetcher = await registered(r.url, bob);
    const oneTimeKeys = async (): Promise<number[]> => {
      const reply = await fetcher.request({ name: 'FETCH_PREKEYS', username: 'alice' });
      if (reply.name !== 'PREKEY_BUNDLE') throw new Error(`expected a bundle, got ${errorOf(reply).code}`);
      return (decodeOneTimePrekeys(reply.oneTimePrekey) ?? []).map((entry) => entry.keyId);
    };
    expect([await oneTimeKeys(), await oneTimeKeys()]).toEqual([[1], []]);
  });

  it('reads nothing more from a client for a second after refusing it for a rate limit, so a client that floods waits in TCP', async () => {
    const r = await relay({ rateLimits: { requests: { points: 1, durationMs: 60_000 } } });
    const client = await registered(r.url, await createIdentity('alice'));
    expect((await client.request({ name: 'TOKEN_REQUEST' })).name).toBe('TOKEN');
    expect(errorOf(await client.request({ name: 'TOKEN_REQUEST' })).code).toBe('RATE_LIMITED');
    const refusedAt = performance.now();

    // Sent during the pause, in its own TCP write: read, and answered, only once the pause is over.
    const lookup = await client.request({ name: 'LOOKUP', username: 'alice' });
    expect(lookup).toMatchObject({ name: 'USER' });
    expect(performance.now() - refusedAt).toBeGreaterThanOrEqual(900);
    expect(await pauses(r, 'refusal')).toBe(1);
  });

  it('keeps a refused client unread for its pause even when the frames it had pipelined are handled sooner', async () => {
    const r = await relay({ maxPipelinedFrames: 2, rateLimits: { requests: { points: 1, durationMs: 60_000 } } });
    const client = await registered(r.url, await createIdentity('alice'));
    // Sent in one turn, so read together: the relay stops reading at the backlog's cap, and refuses the second.
    const sent = [client.request({ name: 'TOKEN_REQUEST' }), client.request({ name: 'TOKEN_REQUEST' })];
    const lookups = [client.request({ name: 'LOOKUP', username: 'alice' }), client.request({ name: 'LOOKUP', username: 'alice' })];
    let refusedAt = 0;
    void sent[1]?.then(() => (refusedAt = performance.now()));
    const [token, refused] = await Promise.all(sent);
    expect([token?.name, errorOf(refused as Frame).code]).toEqual(['TOKEN', 'RATE_LIMITED']);
    expect((await Promise.all(lookups)).map((frame) => frame.name)).toEqual(['USER', 'USER']);
    expect(await pauses(r, 'backlog')).toBeGreaterThan(0);

    // The backlog emptied within the pause; reading must not start again until the pause is over.
    expect(await client.request({ name: 'LOOKUP', username: 'alice' })).toMatchObject({ name: 'USER' });
    expect(performance.now() - refusedAt).toBeGreaterThanOrEqual(900);
  });

  it('rate-limits /v1/ HTTP requests per IP with 429, Retry-After and RATE_LIMITED, before any token check; the probes are not counted', async () => {
    const r = await relay({ rateLimits: { http: { points: 2, durationMs: 1_000 } } });
    const whoami = (): Promise<Response> => fetch(`http://127.0.0.1:${r.port}/v1/whoami`, { headers: { authorization: 'Bearer not.a.token' } });
    expect([(await whoami()).status, (await whoami()).status]).toEqual([401, 401]);

    const limited = await whoami();
    expect(limited.status).toBe(429);
    const refusal = (await limited.json()) as { code: string; retryAfterMs: number };
    expect(refusal.code).toBe('RATE_LIMITED');
    expect(refusal.retryAfterMs).toBeGreaterThan(0);
    expect(refusal.retryAfterMs).toBeLessThanOrEqual(1_000);
    expect(Number(limited.headers.get('retry-after'))).toBe(Math.ceil(refusal.retryAfterMs / 1_000));
    // A refusal takes its connection with it: refused requests every few seconds would otherwise keep any number open.
    expect(limited.headers.get('connection')).toBe('close');
    const upload = await fetch(`http://127.0.0.1:${r.port}/v1/blobs`, { method: 'PUT', body: new Uint8Array(64 * 1024), headers: { authorization: 'Bearer not.a.token' } });
    expect([upload.status, upload.headers.get('connection')]).toEqual([429, 'close']);
    const probe = await fetch(`http://127.0.0.1:${r.port}/healthz`);
    // Not counted, so not kept alive either: one address could otherwise hold any number of connections with probes.
    expect([probe.status, probe.headers.get('connection')]).toEqual([200, 'close']);
    expect(await metric(r, 'parley_rate_limited_total{limit="http"}')).toBe(2);

    await delay(refusal.retryAfterMs);
    expect((await whoami()).status).toBe(401);
  });

  it('rate-limits new registrations per IP, not logins, and registers again after retryAfterMs', async () => {
    const r = await relay({ rateLimits: { registrations: { points: 1, durationMs: 400 } } });
    const [alice, bob] = await Promise.all([createIdentity('alice'), createIdentity('bob')]);
    await registerOffline(r.url, alice);

    const limited = track(await WireClient.connect(r.url));
    const refusal = errorOf(await limited.register(bob));
    expect(refusal.code).toBe('RATE_LIMITED');
    expect((await limited.closed).code).toBe(1013);
    // Registering an existing name with its own key is a login, which is not a registration.
    await registered(r.url, alice);

    await delay(refusal.retryAfterMs);
    await registered(r.url, bob);
  });
});

describe('relay limits: queues', () => {
  it('answers QUEUE_FULL past maxQueuedBytesPerUser, and accepts again once the recipient acks', async () => {
    const r = await relay({ maxQueuedBytesPerUser: 100 });
    const [alice, bob] = await Promise.all([createIdentity('alice'), createIdentity('bob')]);
    await registerOffline(r.url, bob);
    const sender = await registered(r.url, alice);
    const first = messageId();
    await expectOk(sender.request({ name: 'SEND', to: 'bob', messageId: first, envelope: bytes(60) }));
    expect(errorOf(await sender.request({ name: 'SEND', to: 'bob', messageId: messageId(), envelope: bytes(60) })).code).toBe('QUEUE_FULL');

    const recipient = await authenticated(r.url, bob);
    expect(await recipient.next('DELIVER')).toMatchObject({ messageId: first });
    recipient.post({ name: 'ACK', messageId: first });
    await recipient.request({ name: 'LOOKUP', username: 'bob' });
    await expectOk(sender.request({ name: 'SEND', to: 'bob', messageId: messageId(), envelope: bytes(60) }));
  });

  it('answers QUEUE_FULL past maxQueuedPerUser, and accepts again once the recipient acks', async () => {
    const r = await relay({ maxQueuedPerUser: 1 });
    const [alice, bob] = await Promise.all([createIdentity('alice'), createIdentity('bob')]);
    await registerOffline(r.url, bob);
    const sender = await registered(r.url, alice);
    const first = messageId();
    await expectOk(sender.request({ name: 'SEND', to: 'bob', messageId: first, envelope: bytes(4) }));
    expect(errorOf(await sender.request({ name: 'SEND', to: 'bob', messageId: messageId(), envelope: bytes(4) })).code).toBe('QUEUE_FULL');

    const recipient = await authenticated(r.url, bob);
    await recipient.next('DELIVER');
    recipient.post({ name: 'ACK', messageId: first });
    await recipient.request({ name: 'LOOKUP', username: 'bob' });
    await expectOk(sender.request({ name: 'SEND', to: 'bob', messageId: messageId(), envelope: bytes(4) }));
  });

  it('purges envelopes older than maxQueueAgeMs (default 30 days), keeping younger ones', async () => {
    const clock = manualClock();
    const r = await relay({ now: clock.now });
    const [alice, bob] = await Promise.all([createIdentity('alice'), createIdentity('bob')]);
    await registerOffline(r.url, bob);
    const sender = await registered(r.url, alice);
    await expectOk(sender.request({ name: 'SEND', to: 'bob', messageId: messageId(), envelope: bytes(4) }));
    clock.advance(DEFAULT_MAX_QUEUE_AGE_MS - 1);
    expect(await r.purgeExpired()).toBe(0);

    const younger = messageId();
    await expectOk(sender.request({ name: 'SEND', to: 'bob', messageId: younger, envelope: bytes(4) }));
    clock.advance(2);
    expect(await r.purgeExpired()).toBe(1);
    expect(r.queueDepth('bob')).toBe(1);
    const recipient = await authenticated(r.url, bob);
    expect(await recipient.next('DELIVER')).toMatchObject({ messageId: younger });
    expect(await recipient.next('DRAINED')).toMatchObject({ count: 1 });
  });

  it('drops a SEND_EXPIRING envelope unread once its ttl has passed, delivers it before, and refuses a bad ttl', async () => {
    const clock = manualClock();
    const r = await relay({ now: clock.now, maxTtlMs: 60_000 });
    const [alice, bob] = await Promise.all([createIdentity('alice'), createIdentity('bob')]);
    await registerOffline(r.url, bob);
    const sender = await registered(r.url, alice);
    const send = (ttlMs: number, id = messageId()): Promise<Frame> =>
      sender.request({ name: 'SEND_EXPIRING', to: 'bob', messageId: id, envelope: bytes(4), ttlMs });

    expect(errorOf(await send(0)).code).toBe('TTL_INVALID');
    expect(errorOf(await send(60_001)).code).toBe('TTL_INVALID');
    const shortLived = messageId();
    const longLived = messageId();
    await expectOk(send(1_000, shortLived));
    await expectOk(send(5_000, longLived));
    clock.advance(1_000);

    // Past its ttl it is not delivered even before the purge has run.
    const recipient = await authenticated(r.url, bob);
    expect(await recipient.next('DELIVER')).toMatchObject({ messageId: longLived });
    expect(await recipient.next('DRAINED')).toMatchObject({ count: 1 });
    expect(await r.purgeExpired()).toBe(1);
    expect(r.queueDepth('bob')).toBe(1);
  });
});

describe('relay limits: graceful shutdown', () => {
  it('answers every request it has read before closing, and every OK survives the restart', async () => {
    const r = await relay({ rateLimits: { messages: { points: 10_000, durationMs: 1_000 } } });
    const [alice, bob] = await Promise.all([createIdentity('alice'), createIdentity('bob')]);
    await registerOffline(r.url, bob);
    const sender = await registered(r.url, alice);
    const ids = Array.from({ length: 200 }, () => messageId());
    const replies = ids.map((id) => sender.request({ name: 'SEND', to: 'bob', messageId: id, envelope: bytes(16) }).catch(() => undefined));
    await replies[0];
    const restarted = await restart(r);
    const answered = (await Promise.all(replies)).filter((frame) => frame?.name === 'OK').length;
    expect(answered).toBeGreaterThan(0);
    expect(restarted.queueDepth('bob')).toBe(answered);
  });
});
