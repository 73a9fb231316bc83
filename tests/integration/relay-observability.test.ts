import { randomBytes } from 'node:crypto';
import { readFileSync, statSync, statfsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LOG_EVENTS } from '../../relay/src/log.js';
import { createLog, hashUsername, loadUsernameSalt } from '../../relay/src/logger.js';
import { startRelay, type RelayHandle, type RelayOptions } from '../../relay/src/server.js';
import { captureLines, type LogCapture } from '../support/log-capture.js';
import { startTestRelay, type TestRelay } from '../support/relay.js';
import { WireClient, createIdentity, expectOk } from '../support/wire-client.js';

const cleanups: Array<() => Promise<void>> = [];

/** The release in package.json, read here rather than through the relay's own lookup. */
const PARLEY_VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function testRelay(options: Parameters<typeof startTestRelay>[0] = {}): Promise<TestRelay> {
  const relay = await startTestRelay(options);
  cleanups.push(() => relay.close());
  return relay;
}

async function loggingRelay(options: Partial<RelayOptions>): Promise<{ relay: RelayHandle; capture: LogCapture }> {
  const dataDir = await mkdtemp(join(tmpdir(), 'parley-relay-log-'));
  const capture = captureLines();
  const relay = await startRelay({ dataDir, port: 0, logLevel: 'info', ...options }, { logDestination: capture.stream });
  cleanups.push(async () => {
    await relay.close();
    await rm(dataDir, { recursive: true, force: true });
  });
  return { relay, capture };
}

function metricValue(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('relay logs', () => {
  it('redacts secret fields by name and hashes usernames when asked', async () => {
    const capture = captureLines();
    const salt = Uint8Array.from(randomBytes(32));
    const log = createLog({ level: 'info', usernameSalt: salt, destination: capture.stream });
    log('auth_failed', { user: 'alice', token: 'eyJhbGciOi.secret', signature: 'c2lnbmF0dXJl', envelope: 'Y2lwaGVy', conn: 7 });
    expect(capture.lines).toHaveLength(1);
    expect(capture.lines[0]).toMatchObject({
      event: 'auth_failed',
      level: 'warn',
      conn: 7,
      user: hashUsername(salt, 'alice'),
      token: '[redacted]',
      signature: '[redacted]',
      envelope: '[redacted]',
    });
    expect(capture.raw()).not.toMatch(/alice|eyJhbGciOi|c2lnbmF0dXJl|Y2lwaGVy/);
  });

  it("RELAY.md's table names every event the relay logs, at the level it logs it", () => {
    const documented = readFileSync(new URL('../../docs/RELAY.md', import.meta.url), 'utf8');
    const rows = new Map([...documented.matchAll(/^\| `([a-z_]+)` \| (info|warn) \|/gm)].map((m) => [m[1] ?? '', m[2] ?? '']));
    expect([...rows.keys()].sort()).toEqual([...LOG_EVENTS].sort());
    const capture = captureLines();
    const log = createLog({ level: 'info', destination: capture.stream });
    for (const event of LOG_EVENTS) log(event);
    expect(capture.lines.map((line) => [line.event, line.level])).toEqual(LOG_EVENTS.map((event) => [event, rows.get(event)]));
  });

  it('logs nothing at level silent', () => {
    const capture = captureLines();
    createLog({ level: 'silent', destination: capture.stream })('relay_started', { user: 'alice' });
    expect(capture.lines).toEqual([]);
  });

  it('keeps one username salt per data dir, so hashes are stable across restarts', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'parley-relay-salt-'));
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
    expect(loadUsernameSalt(dataDir)).toEqual(loadUsernameSalt(dataDir));
  });

  it('logs where it listens and how it admits people once it has started', async () => {
    const { relay, capture } = await loggingRelay({ host: '127.0.0.1', registration: 'invite', trustedProxies: ['loopback'] });
    const started = capture.lines.filter((line) => line.event === 'relay_started');
    expect(started).toHaveLength(1);
    expect(started[0]).toMatchObject({
      level: 'info',
      version: PARLEY_VERSION,
      host: '127.0.0.1',
      port: relay.port,
      tls: false,
      registration: 'invite',
      trustedProxies: 'loopback',
      metricsFrom: 'loopback,uniquelocal',
      hashUsernames: false,
    });
  });

  it('a real session logs events with connection ids, and never a username (hashed), nonce, key or envelope', async () => {
    const { relay, capture } = await loggingRelay({ hashUsernames: true });
    const [alice, bob] = await Promise.all([createIdentity('alice'), createIdentity('bob')]);
    const sender = await WireClient.registered(relay.url, alice);
    const recipient = await WireClient.registered(relay.url, bob);
    const envelope = Uint8Array.from(randomBytes(48));
    const messageId = Uint8Array.from(randomBytes(16));
    await expectOk(sender.request({ name: 'SEND', to: 'bob', messageId, envelope }));
    await recipient.next('DELIVER');
    const offender = await WireClient.connect(relay.url);
    offender.sendRaw(Uint8Array.of(1, 0x7f, 0, 0, 0, 1));
    await offender.closed;
    await Promise.all([sender.close(), recipient.close()]);

    const events = capture.lines.map((line) => line.event);
    expect(events).toContain('authenticated');
    expect(events).toContain('frame_rejected');
    expect(capture.lines.find((line) => line.event === 'frame_rejected')).toMatchObject({ level: 'warn', code: 'PROTO_UNKNOWN_TYPE' });
    for (const line of capture.lines.filter((l) => l.event === 'authenticated')) {
      expect(typeof line.conn).toBe('number');
      expect(line.user).toMatch(/^[0-9a-f]{16}$/);
    }
    const raw = capture.raw();
    for (const secret of [envelope, messageId, sender.nonce, recipient.nonce, alice.identityKey, bob.agreementKey]) {
      expect(raw).not.toContain(Buffer.from(secret).toString('hex'));
      expect(raw).not.toContain(Buffer.from(secret).toString('base64'));
      expect(raw).not.toContain(Buffer.from(secret).toString('base64url'));
    }
    expect(raw).not.toMatch(/"alice"|"bob"/);
  });
});

describe('relay HTTP endpoints', () => {
  it('answers /healthz and /readyz on the WebSocket port, with a request id', async () => {
    const relay = await testRelay();
    const base = `http://127.0.0.1:${relay.port}`;
    const health = await fetch(`${base}/healthz`);
    expect(health.status).toBe(200);
    expect(health.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    const ready = await fetch(`${base}/readyz`, { headers: { 'x-request-id': 'probe-17' } });
    expect(ready.status).toBe(200);
    expect(ready.headers.get('x-request-id')).toBe('probe-17');
    // Anything else a proxy might pass on as a request id is replaced, not echoed into headers and logs.
    for (const given of ['x'.repeat(65), 'two words', 'a"quote']) {
      const replaced = await fetch(`${base}/healthz`, { headers: { 'x-request-id': given } });
      expect(replaced.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    }
    expect((await fetch(`${base}/healthz?from=monitor`)).status).toBe(200);
    const elsewhere = await fetch(`${base}/elsewhere`);
    expect(elsewhere.status).toBe(426);
    expect(elsewhere.headers.get('upgrade')).toBe('websocket');
    const posted = await fetch(`${base}/healthz`, { method: 'POST' });
    expect(posted.status).toBe(405);
    expect(posted.headers.get('allow')).toBe('GET, HEAD');
  });


  it('serves Prometheus metrics: connections, frames, queue depth, delivery latency, rate-limit hits, storage', async () => {
    const relay = await testRelay({ rateLimits: { messages: { points: 2, durationMs: 60_000 } } });
    const [alice, bob, carol] = await Promise.all([createIdentity('alice'), createIdentity('bob'), createIdentity('carol')]);
    const sender = await WireClient.registered(relay.url, alice);
    const recipient = await WireClient.registered(relay.url, bob);
    await (await WireClient.registered(relay.url, carol)).close();
    cleanups.push(async () => {
      await Promise.all([sender.close(), recipient.close()]);
    });
    const delivered = Uint8Array.from(randomBytes(16));
    await expectOk(sender.request({ name: 'SEND', to: 'bob', messageId: delivered, envelope: Uint8Array.of(1) }));
    await recipient.next('DELIVER');
    recipient.post({ name: 'ACK', messageId: delivered });
    await recipient.request({ name: 'LOOKUP', username: 'bob' });
    await expectOk(sender.request({ name: 'SEND', to: 'carol', messageId: Uint8Array.from(randomBytes(16)), envelope: Uint8Array.of(2) }));
    expect(await sender.request({ name: 'SEND', to: 'carol', messageId: Uint8Array.from(randomBytes(16)), envelope: Uint8Array.of(3) })).toMatchObject({
      code: 'RATE_LIMITED',
    });

    const response = await fetch(`http://127.0.0.1:${relay.port}/metrics`);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await response.text();
    expect(metricValue(text, 'parley_connections')).toBe(2);
    expect(metricValue(text, 'parley_frames_in_total{type="SEND"}')).toBe(3);
    expect(metricValue(text, 'parley_frames_in_total{type="ACK"}')).toBe(1);
    expect(metricValue(text, 'parley_frames_out_total{type="DELIVER"}')).toBe(1);
    expect(metricValue(text, 'parley_queue_depth')).toBe(1);
    // bob's envelope was acked and its hold has ended; the hold is the base one, bob having acked at once.
    expect(metricValue(text, 'parley_held_envelopes')).toBe(0);
    expect(metricValue(text, 'parley_hold_seconds')).toBe(0.025);
    expect(metricValue(text, 'parley_delivery_latency_seconds_count')).toBe(1);
    expect(metricValue(text, 'parley_rate_limited_total{limit="messages"}')).toBe(1);
    // Storage: whole pages, at least what the database file holds; the disk's free space; no cap, so no cap's gauge.
    const databaseBytes = metricValue(text, 'parley_database_bytes') ?? 0;
    expect(databaseBytes % 4_096).toBe(0);
    expect(databaseBytes).toBeGreaterThanOrEqual(statSync(join(relay.dataDir, 'relay.sqlite')).size);
    const { bavail, bsize } = statfsSync(relay.dataDir);
    expect(Math.abs((metricValue(text, 'parley_disk_free_bytes') ?? 0) - bavail * bsize)).toBeLessThan(64 * 1024 * 1024);
    expect(metricValue(text, 'parley_database_max_bytes')).toBeUndefined();
    expect(metricValue(text, `parley_relay_info{version="${PARLEY_VERSION}"}`)).toBe(1);
    // Plain ws:// (TLS at a proxy): no certificate of its own to report.
    expect(text).not.toContain('parley_tls_certificate_expiry_timestamp_seconds');
  });

  it('serves every refusal, cut-off and pause counter from the start, at 0: each limit and reason RELAY.md names', async () => {
    // Prometheus sees no increase in a series that first appears with its count: the alert on the first refusals needs the 0 before.
    const relay = await testRelay();
    const text = await (await fetch(`http://127.0.0.1:${relay.port}/metrics`)).text();
    const documented = readFileSync(new URL('../../docs/RELAY.md', import.meta.url), 'utf8');
    const rowOf = (series: string): string => documented.split('\n').find((line) => line.startsWith(`| \`${series}{`)) ?? '';
    const served = (series: string, label: string): Map<string, number> =>
      new Map([...text.matchAll(new RegExp(`^${series}\\{${label}="([^"]+)"\\} (\\S+)$`, 'gm'))].map((m) => [m[1] ?? '', Number(m[2])]));

    const limits = served('parley_rate_limited_total', 'limit');
    expect([...limits.keys()].sort()).toEqual(['connections', 'handshakes', 'http', 'lookups', 'maxBlobTransfers', 'maxBlobTransfersPerUser', 'maxConnections', 'messages', 'prekeyFetches', 'registrations', 'requests', 'totp']);
    expect([...limits.values()].every((count) => count === 0)).toBe(true);
    const reasons = served('parley_connections_cut_total', 'reason');
    expect([...reasons.keys()].sort()).toEqual(['blob_idle', 'handshake_timeout', 'idle', 'slow_reader']);
    expect([...reasons.values()].every((count) => count === 0)).toBe(true);
    const pauses = served('parley_reads_paused_total', 'reason');
    expect([...pauses.keys()].sort()).toEqual(['backlog', 'refusal']);
    expect([...pauses.values()].every((count) => count === 0)).toBe(true);
    for (const limit of limits.keys()) expect(rowOf('parley_rate_limited_total'), `RELAY.md names ${limit}`).toContain(`\`${limit}\``);
    for (const reason of reasons.keys()) expect(rowOf('parley_connections_cut_total'), `RELAY.md names ${reason}`).toContain(`\`${reason}\``);
    for (const reason of pauses.keys()) expect(rowOf('parley_reads_paused_total'), `RELAY.md names ${reason}`).toContain(`\`${reason}\``);
  });

  it('keeps metrics per relay: two relays in one process do not share counters', async () => {
    const [one, two] = await Promise.all([testRelay(), testRelay()]);
    const client = await WireClient.connect(one.url);
    cleanups.push(async () => {
      await client.close();
    });
    const first = await (await fetch(`http://127.0.0.1:${one.port}/metrics`)).text();
    const second = await (await fetch(`http://127.0.0.1:${two.port}/metrics`)).text();
    expect(metricValue(first, 'parley_connections')).toBe(1);
    expect(metricValue(second, 'parley_connections')).toBe(0);
  });

  it("serves the process's CPU, memory and descriptors, and how busy its event loop was since the last scrape", async () => {
    const relay = await testRelay();
    const scrape = async (): Promise<string> => (await fetch(`http://127.0.0.1:${relay.port}/metrics`)).text();
    await scrape();
    // The relay runs in this process: a loop that never yields keeps its event loop busy for the whole window.
    const busyUntil = performance.now() + 300;
    while (performance.now() < busyUntil);
    const busy = await scrape();
    expect(metricValue(busy, 'parley_event_loop_utilization')).toBeGreaterThan(0.8);
    await new Promise((resolve) => setTimeout(resolve, 300)); // idle time is what is measured here
    const idle = await scrape();
    expect(metricValue(idle, 'parley_event_loop_utilization')).toBeLessThan(0.5);
    expect(metricValue(idle, 'process_open_fds')).toBeGreaterThan(0);
    expect(metricValue(idle, 'process_max_fds')).toBe(Number(readFileSync('/proc/self/limits', 'utf8').match(/^Max open files\s+(\d+)/m)?.[1]));
    expect(metricValue(idle, 'process_resident_memory_bytes')).toBeGreaterThan(0);
  });

  it('serves /metrics only to metricsFrom: this machine and private networks by default, never the internet', async () => {
    const status = async (relay: TestRelay, forwardedFor?: string): Promise<number> => {
      const response = await fetch(`http://127.0.0.1:${relay.port}/metrics`, { headers: forwardedFor === undefined ? {} : { 'x-forwarded-for': forwardedFor } });
      await response.arrayBuffer();
      return response.status;
    };
    // Behind a proxy on this machine, the client it forwarded for is what counts. 203.0.113.0/24 is TEST-NET-3 (RFC 5737).
    const proxied = await testRelay({ trustedProxies: ['loopback'] });
    expect(await status(proxied)).toBe(200);
    expect(await status(proxied, '10.1.2.3')).toBe(200);
    expect(await status(proxied, '192.168.7.7')).toBe(200);
    expect(await status(proxied, '203.0.113.7')).toBe(403);
    expect(await status(proxied, '2001:db8::1')).toBe(403);
    const refused = await fetch(`http://127.0.0.1:${proxied.port}/metrics`, { headers: { 'x-forwarded-for': '203.0.113.7' } });
    expect(await refused.text()).toBe('metrics are served only to the addresses in metricsFrom\n');
    // A header from a client that is not a trusted proxy changes nothing.
    const direct = await testRelay();
    expect(await status(direct, '203.0.113.7')).toBe(200);
    // An operator's own list replaces the default.
    const listed = await testRelay({ trustedProxies: ['loopback'], metricsFrom: ['203.0.113.0/24'] });
    expect(await status(listed, '203.0.113.7')).toBe(200);
    expect(await status(listed, '10.1.2.3')).toBe(403);
    expect(await status(listed)).toBe(403);
    // The probes stay open to everyone.
    expect((await fetch(`http://127.0.0.1:${listed.port}/healthz`)).status).toBe(200);
    await expect(testRelay({ metricsFrom: ['10.0.0.0/99'] })).rejects.toThrow(/^metricsFrom: /);
  });
});
