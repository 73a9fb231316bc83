import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { get, request } from 'node:https';
import { describe, expect, it } from 'vitest';
import type { Frame } from '../../relay/protocol/index.js';
import { selfSignedCertificate, type Certificate } from '../support/certificate.js';
import { useCleanups } from '../support/cleanups.js';
import { DEFAULT_MAX_BLOB_BYTES } from '../../relay/src/options.js';
import { startTestRelay, type TestRelay } from '../support/relay.js';
import { startCaddy, startNginx, type ReverseProxy } from '../support/reverse-proxy.js';
import { WireClient, createIdentity, expectOk } from '../support/wire-client.js';

// The reverse-proxy examples of docs/RELAY.md, run as written by Debian's nginx and Caddy in front of a relay started
// as RELAY.md says to behind them (trusted proxies). The proxy reaches the relay from 127.0.0.1; the clients come from
// other loopback addresses, as remote ones would, and the relay trusts 127.0.0.1 alone, as it would trust `loopback`.

const cleanups = useCleanups();

const PROXIES: ReadonlyArray<readonly [string, (cleanups: ReturnType<typeof useCleanups>, relayPort: number, certificate: Certificate) => Promise<ReverseProxy>]> = [
  ['nginx', startNginx],
  ['Caddy', startCaddy],
];

function errorOf(frame: Frame): Extract<Frame, { name: 'ERROR' }> {
  if (frame.name !== 'ERROR') throw new Error(`expected ERROR, got ${frame.name}`);
  return frame;
}

/** An HTTPS GET through the proxy: its status. */
function statusOf(url: string, ca: Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    get(url, { ca, agent: false }, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    }).on('error', reject);
  });
}

/** An HTTPS request through the proxy with a Bearer token: its status and body. */
function exchange(url: string, ca: Buffer, method: string, token: string, body?: Buffer): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, ca, agent: false, headers: { authorization: `Bearer ${token}` } }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

describe.each(PROXIES)("the relay behind RELAY.md's %s example", (_name, startProxy) => {
  /** A relay behind the proxy; `connect` opens a client from a loopback address of its own (with its CHALLENGE read if `challenged`). */
  async function setUp(options: Parameters<typeof startTestRelay>[0] = {}): Promise<{ relay: TestRelay; url: string; ca: Buffer; connect: (from: string, headers?: Record<string, string>, challenged?: boolean) => Promise<WireClient> }> {
    const relay = await startTestRelay({ trustedProxies: ['127.0.0.1'], ...options });
    cleanups.push(() => relay.close());
    const dir = await cleanups.tempDir('parley-proxy-cert-');
    const certificate = selfSignedCertificate(dir, 'chat.example.org', { subjectAltName: 'IP:127.0.0.1' });
    const proxy = await startProxy(cleanups, relay.port, certificate);
    const ca = readFileSync(certificate.certPath);
    const url = `wss://127.0.0.1:${proxy.port}`;
    const connect = async (from: string, headers: Record<string, string> = {}, challenged = false): Promise<WireClient> => {
      const options = { ca, localAddress: from, headers };
      const client = await (challenged ? WireClient.connect(url, options) : WireClient.open(url, options));
      cleanups.push(() => client.close());
      return client;
    };
    return { relay, url, ca, connect };
  }

  it('carries a conversation over wss://, and answers /healthz but not /metrics', async () => {
    const { url, ca, connect } = await setUp();
    const [alice, bob] = await Promise.all([createIdentity('alice'), createIdentity('bob')]);
    const sender = await connect('127.0.0.5', {}, true);
    await expectOk(sender.register(alice));
    const recipient = await connect('127.0.0.6', {}, true);
    await expectOk(recipient.register(bob));

    const messageId = Uint8Array.from(randomBytes(16));
    await expectOk(sender.request({ name: 'SEND', to: 'bob', messageId, envelope: Uint8Array.of(7, 7, 7) }));
    const delivered = await recipient.next('DELIVER');
    expect(delivered.messageId).toEqual(messageId);
    expect(delivered.envelope).toEqual(Uint8Array.of(7, 7, 7));

    const https = url.replace('wss://', 'https://');
    expect(await statusOf(`${https}/healthz`, ca)).toBe(200);
    // The relay would answer /metrics to the proxy's loopback address; the example keeps it off the public name.
    expect(await statusOf(`${https}/metrics`, ca)).toBe(404);
  });

  it("carries an attachment as large as the relay takes (maxBlobBytes) up and back down", async () => {
    const { url, ca, connect } = await setUp();
    const alice = await connect('127.0.0.5', {}, true);
    await expectOk(alice.register(await createIdentity('alice')));
    const reply = await alice.request({ name: 'TOKEN_REQUEST' });
    if (reply.name !== 'TOKEN') throw new Error(`expected TOKEN, got ${reply.name}`);
    const https = url.replace('wss://', 'https://');

    const blob = randomBytes(DEFAULT_MAX_BLOB_BYTES);
    const put = await exchange(`${https}/v1/blobs`, ca, 'PUT', reply.token, blob);
    expect(put.status, put.body.toString('utf8').slice(0, 200)).toBe(201);
    const { id } = JSON.parse(put.body.toString('utf8')) as { id: string };
    const got = await exchange(`${https}/v1/blobs/${id}`, ca, 'GET', reply.token);
    expect(got.status).toBe(200);
    expect(got.body.length).toBe(blob.length);
    expect(sha256(got.body)).toBe(sha256(blob));
  });

  it('counts the per-IP limit against each client behind it, whatever X-Forwarded-For a client sends', async () => {
    const { connect } = await setUp({ maxConnectionsPerIp: 1 });
    await (await connect('127.0.0.5')).next('CHALLENGE');
    // A second connection from the same client is over the cap, though the proxy's address is the same for everyone.
    const again = await connect('127.0.0.5');
    expect(errorOf(await again.next('ERROR')).code).toBe('TOO_MANY_CONNECTIONS');
    // Another client behind the proxy has a place of its own; a forwarded address it names for itself changes nothing.
    await (await connect('127.0.0.6', { 'X-Forwarded-For': '198.51.100.7' })).next('CHALLENGE');
    const spoofing = await connect('127.0.0.6', { 'X-Forwarded-For': '198.51.100.8' });
    expect(errorOf(await spoofing.next('ERROR')).code).toBe('TOO_MANY_CONNECTIONS');
  });
});

describe("RELAY.md's nginx timeouts", () => {
  // The example's 120 s, scaled down with the relay's ping interval: the claim is about their order, not their size.
  async function behindNginx(pingIntervalMs: number): Promise<WireClient> {
    const relay = await startTestRelay({ pingIntervalMs });
    cleanups.push(() => relay.close());
    const dir = await cleanups.tempDir('parley-proxy-cert-');
    const certificate = selfSignedCertificate(dir, 'chat.example.org', { subjectAltName: 'IP:127.0.0.1' });
    const shorter = (server: string): string => {
      if (!server.includes('proxy_read_timeout 120s;') || !server.includes('proxy_send_timeout 120s;')) throw new Error('the example no longer sets 120 s timeouts');
      return server.replace('proxy_read_timeout 120s;', 'proxy_read_timeout 1s;').replace('proxy_send_timeout 120s;', 'proxy_send_timeout 1s;');
    };
    const proxy = await startNginx(cleanups, relay.port, certificate, shorter);
    const client = await WireClient.connect(`wss://127.0.0.1:${proxy.port}`, { ca: readFileSync(certificate.certPath) });
    cleanups.push(() => client.close());
    return client;
  }

  it("keep an idle client's connection open while the relay's pings come more often than the proxy's timeout", async () => {
    const client = await behindNginx(250);
    await expectOk(client.register(await createIdentity('alice')));
    // Eight pings: two seconds idle, twice the proxy's timeout.
    await client.pings(8);
    expect(await client.request({ name: 'LOOKUP', username: 'alice' })).toMatchObject({ name: 'USER', username: 'alice' });
  });

  it('close it when the pings come less often, which is what the example guards against', async () => {
    const client = await behindNginx(60_000);
    const closed = await client.closed;
    // nginx drops the idle upstream and the client's socket with it: no close frame from the relay (1006).
    expect(closed.code).toBe(1006);
  });
});

