import { randomBytes } from 'node:crypto';
import { statSync, watch } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { once } from 'node:events';
import { request as httpRequest, type ClientRequest } from 'node:http';
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { resolveOptions } from '../../relay/src/options.js';
import { captureLines } from '../support/log-capture.js';
import { rawWebSocket } from '../support/raw-websocket.js';
import { metric } from '../support/metrics.js';
import { startTestRelay, type TestRelay } from '../support/relay.js';
import { WireClient, createIdentity, expectOk } from '../support/wire-client.js';

const relays: TestRelay[] = [];

afterEach(async () => {
  for (const relay of relays.splice(0).reverse()) await relay.close();
});

async function relay(...args: Parameters<typeof startTestRelay>): Promise<TestRelay> {
  const started = await startTestRelay(...args);
  relays.push(started);
  return started;
}

async function tokenFor(r: TestRelay, username: string): Promise<string> {
  const client = await WireClient.connect(r.url);
  await expectOk(client.register(await createIdentity(username)));
  const reply = await client.request({ name: 'TOKEN_REQUEST' });
  await client.close();
  if (reply.name !== 'TOKEN') throw new Error(`expected TOKEN, got ${reply.name}`);
  return reply.token;
}

function upload(r: TestRelay, token: string | undefined, bytes: Uint8Array): Promise<Response> {
  return fetch(`http://127.0.0.1:${r.port}/v1/blobs`, {
    method: 'PUT',
    headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
    body: Buffer.from(bytes),
  });
}

function download(r: TestRelay, token: string, id: string, method = 'GET'): Promise<Response> {
  return fetch(`http://127.0.0.1:${r.port}/v1/blobs/${id}`, { method, headers: { authorization: `Bearer ${token}` } });
}

/** What the relay answers a request written as is on a connection of its own, once the relay has closed that connection. */
async function answerOnceClosed(r: TestRelay, request: string): Promise<string> {
  const socket = connect(r.port, '127.0.0.1');
  let answer = '';
  socket.setEncoding('latin1').on('data', (chunk: string) => (answer += chunk));
  socket.write(request);
  await once(socket, 'close');
  return answer;
}

const statusLine = (answer: string): string | undefined => answer.split('\r\n')[0];

describe('relay blobs', () => {
  it('stores an uploaded blob and serves the same bytes to another user with a token', async () => {
    const r = await relay();
    const [alice, bob] = [await tokenFor(r, 'alice'), await tokenFor(r, 'bob')];
    const bytes = new Uint8Array(randomBytes(300 * 1024));
    const put = await upload(r, alice, bytes);
    expect(put.status).toBe(201);
    const { id, expiresAt } = (await put.json()) as { id: string; expiresAt: number };
    expect(id).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(expiresAt).toBeGreaterThan(Date.now() + 29 * 24 * 3600_000);
    expect(statSync(join(r.dataDir, 'blobs', id)).mode & 0o777).toBe(0o600);

    const got = await download(r, bob, id);
    expect(got.status).toBe(200);
    expect(new Uint8Array(await got.arrayBuffer())).toEqual(bytes);
    expect((await download(r, bob, id, 'HEAD')).headers.get('content-length')).toBe(String(bytes.length));
  });

  it('needs a token for both directions, and answers 404 BLOB_NOT_FOUND for an unknown id', async () => {
    const r = await relay();
    const alice = await tokenFor(r, 'alice');
    const put = await upload(r, undefined, Uint8Array.of(1, 2, 3));
    expect(put.status).toBe(401);
    expect(await put.json()).toMatchObject({ code: 'TOKEN_MISSING' });
    const stored = (await (await upload(r, alice, Uint8Array.of(1))).json()) as { id: string };
    const anonymous = await fetch(`http://127.0.0.1:${r.port}/v1/blobs/${stored.id}`);
    expect(anonymous.status).toBe(401);
    for (const id of ['A'.repeat(43), '..%2Frelay.sqlite', 'x']) {
      const missing = await download(r, alice, id);
      expect(missing.status).toBe(404);
      expect(await missing.json()).toMatchObject({ code: 'BLOB_NOT_FOUND' });
    }
  });

  it('answers a method a path does not take with 405 METHOD_NOT_ALLOWED and the methods it does take', async () => {
    const r = await relay();
    const alice = await tokenFor(r, 'alice');
    const stored = (await (await upload(r, alice, Uint8Array.of(1))).json()) as { id: string };
    const collection = await fetch(`http://127.0.0.1:${r.port}/v1/blobs`, { method: 'GET', headers: { authorization: `Bearer ${alice}` } });
    expect(collection.status).toBe(405);
    expect(collection.headers.get('allow')).toBe('PUT');
    expect(await collection.json()).toMatchObject({ code: 'METHOD_NOT_ALLOWED' });
    const one = await download(r, alice, stored.id, 'DELETE');
    expect(one.status).toBe(405);
    expect(one.headers.get('allow')).toBe('GET, HEAD');
    // The blob is still there.
    expect(new Uint8Array(await (await download(r, alice, stored.id)).arrayBuffer())).toEqual(Uint8Array.of(1));
  });

  it('refuses a blob over maxBlobBytes with 413 BLOB_TOO_LARGE, declared or streamed, and keeps no part of it', async () => {
    const r = await relay({ maxBlobBytes: 1000 });
    const alice = await tokenFor(r, 'alice');
    const over = await upload(r, alice, new Uint8Array(1001));
    expect(over.status).toBe(413);
    expect(await over.json()).toMatchObject({ code: 'BLOB_TOO_LARGE' });

    // Refused on its declared length before a byte of its body is sent, and the connection closed, not kept waiting for it.
    const declared = await answerOnceClosed(r, `PUT /v1/blobs HTTP/1.1\r\nHost: relay\r\nAuthorization: Bearer ${alice}\r\nContent-Length: 1001\r\n\r\n`);
    expect(statusLine(declared)).toBe('HTTP/1.1 413 Payload Too Large');
    expect(declared).toMatch(/\r\nconnection: close\r\n/i);
    // The same for one found over the cap as it streams in: the rest of its body is not waited for.
    const streamedRaw = await answerOnceClosed(r, `PUT /v1/blobs HTTP/1.1\r\nHost: relay\r\nAuthorization: Bearer ${alice}\r\nTransfer-Encoding: chunked\r\n\r\n4b0\r\n${'x'.repeat(0x4b0)}\r\n`);
    expect(statusLine(streamedRaw)).toBe('HTTP/1.1 413 Payload Too Large');
    expect(streamedRaw).toMatch(/\r\nconnection: close\r\n/i);

    // No Content-Length: the relay counts while it writes and stops at the cap.
    const chunks = [new Uint8Array(600), new Uint8Array(600)];
    const streamed = await fetch(`http://127.0.0.1:${r.port}/v1/blobs`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${alice}` },
      body: new ReadableStream({
        pull(controller) {
          const next = chunks.shift();
          if (next === undefined) controller.close();
          else controller.enqueue(next);
        },
      }),
      duplex: 'half',
    } as RequestInit).catch(() => undefined);
    if (streamed !== undefined) expect(streamed.status).toBe(413);
    // The relay may reset the upload before it has removed the partial file, so the client can be told first.
    await vi.waitFor(async () => expect(await readdir(join(r.dataDir, 'blobs'))).toEqual([]));

    expect((await upload(r, alice, new Uint8Array(1000))).status).toBe(201);
  });

  it('keeps each user under maxBlobBytesPerUser with 413 BLOB_QUOTA_EXCEEDED, declared or streamed, until blobs expire', async () => {
    let now = Date.now();
    const r = await relay({ now: () => now, maxBlobBytes: 1_000, maxBlobBytesPerUser: 1_500, blobTtlMs: 60_000 });
    const [alice, bob] = [await tokenFor(r, 'alice'), await tokenFor(r, 'bob')];
    expect((await upload(r, alice, new Uint8Array(1_000))).status).toBe(201);
    const over = await upload(r, alice, new Uint8Array(600));
    expect(over.status).toBe(413);
    expect(await over.json()).toMatchObject({ code: 'BLOB_QUOTA_EXCEEDED' });
    // Streamed without a length: refused once it passes what is left (500 bytes), nothing kept.
    const streamed = await fetch(`http://127.0.0.1:${r.port}/v1/blobs`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${alice}` },
      body: new ReadableStream({
        start(controller) {
          controller.enqueue(new Uint8Array(400));
          controller.enqueue(new Uint8Array(400));
          controller.close();
        },
      }),
      duplex: 'half',
    } as RequestInit).catch(() => undefined);
    if (streamed !== undefined) expect(await streamed.json()).toMatchObject({ code: 'BLOB_QUOTA_EXCEEDED' });
    await vi.waitFor(async () => expect(await readdir(join(r.dataDir, 'blobs'))).toHaveLength(1));
    // What is left still fits, and another user's quota is their own.
    expect((await upload(r, alice, new Uint8Array(500))).status).toBe(201);
    expect((await upload(r, bob, new Uint8Array(1_000))).status).toBe(201);
    // Expired blobs stop counting.
    now += 60_000;
    expect((await upload(r, alice, new Uint8Array(1_000))).status).toBe(201);
  });

  it('holds a user to maxBlobBytesPerUser across uploads made side by side: each fits alone, the later to finish is refused', async () => {
    const r = await relay({ maxBlobBytes: 2_000, maxBlobBytesPerUser: 3_000 });
    const alice = await tokenFor(r, 'alice');
    const [first, second] = [stalledUpload(r, alice), stalledUpload(r, alice)];
    await uploadsInProgress(r, 2);
    expect(await first.finish()).toBe(201);
    expect(await second.finish()).toBe(413);
    // The refused one's file goes with it.
    expect(await readdir(join(r.dataDir, 'blobs'))).toHaveLength(1);
  });

  it('expires blobs after blobTtlMs: not served, then purged from disk', async () => {
    let now = Date.now();
    const r = await relay({ now: () => now, blobTtlMs: 60_000 });
    const alice = await tokenFor(r, 'alice');
    const { id } = (await (await upload(r, alice, Uint8Array.of(7))).json()) as { id: string };
    expect((await download(r, alice, id)).status).toBe(200);
    now += 60_000;
    expect((await download(r, alice, id)).status).toBe(404);
    expect(await r.purgeExpired()).toBe(1);
    expect(await readdir(join(r.dataDir, 'blobs'))).toEqual([]);
  });
});

/** An upload whose body stops after its first 100 bytes, so the relay holds its transfer open; finish() sends the rest and resolves with the status. */
function stalledUpload(r: TestRelay, token: string): { request: ClientRequest; finish(): Promise<number> } {
  const body = randomBytes(2_000);
  const request = httpRequest({ host: '127.0.0.1', port: r.port, method: 'PUT', path: '/v1/blobs', headers: { authorization: `Bearer ${token}`, 'content-length': String(body.length) } });
  request.on('error', () => undefined);
  const answered = new Promise<number>((resolve) => request.once('response', (response) => resolve(response.resume().statusCode ?? 0)));
  request.write(body.subarray(0, 100));
  return {
    request,
    finish: () => {
      request.end(body.subarray(100));
      return answered;
    },
  };
}

/** Resolves once the relay's blob folder holds `count` uploads in progress (their `.partial` files). */
function uploadsInProgress(r: TestRelay, count: number): Promise<void> {
  const dir = join(r.dataDir, 'blobs');
  return new Promise((resolve, reject) => {
    const look = (): void => {
      readdir(dir).then((names) => {
        if (names.filter((name) => name.endsWith('.partial')).length !== count) return;
        watcher.close();
        resolve();
      }, reject);
    };
    // Watching first, then looking: a file made in between is still seen.
    const watcher = watch(dir, look);
    look();
  });
}

describe('relay blob transfers in progress', () => {
  it('holds each user to maxBlobTransfersPerUser uploads and downloads at once with 429 TOO_MANY_TRANSFERS; others are served, and one that ends makes room', async () => {
    const r = await relay({ maxBlobTransfersPerUser: 2 });
    const [alice, bob] = [await tokenFor(r, 'alice'), await tokenFor(r, 'bob')];
    const stored = (await (await upload(r, bob, randomBytes(10))).json()) as { id: string };
    const first = stalledUpload(r, alice);
    const second = stalledUpload(r, alice);
    await uploadsInProgress(r, 2);

    const refused = await upload(r, alice, randomBytes(10));
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(await refused.json()).toEqual({ code: 'TOO_MANY_TRANSFERS', message: 'at most 2 blob uploads and downloads at once per user', retryAfterMs: 1_000 });
    // An upload refused before its body is read closes its connection rather than wait for the body.
    const unsent = await answerOnceClosed(r, `PUT /v1/blobs HTTP/1.1\r\nHost: relay\r\nAuthorization: Bearer ${alice}\r\nContent-Length: 10\r\n\r\n`);
    expect(statusLine(unsent)).toBe('HTTP/1.1 429 Too Many Requests');
    expect(unsent).toMatch(/\r\nconnection: close\r\n/i);
    // A download opens a file too.
    expect((await download(r, alice, stored.id)).status).toBe(429);
    // HEAD opens none.
    expect((await download(r, alice, stored.id, 'HEAD')).status).toBe(200);
    expect((await upload(r, bob, randomBytes(10))).status).toBe(201);

    expect(await first.finish()).toBe(201);
    expect((await upload(r, alice, randomBytes(10))).status).toBe(201);
    expect(await second.finish()).toBe(201);
    expect(await metric(r, 'parley_rate_limited_total{limit="maxBlobTransfersPerUser"}')).toBe(3);
  });

  it('holds all users to maxBlobTransfers at once with 503 RELAY_BUSY, and an upload its client abandons gives its place back', async () => {
    const r = await relay({ maxBlobTransfers: 2 });
    const [alice, bob, carol] = [await tokenFor(r, 'alice'), await tokenFor(r, 'bob'), await tokenFor(r, 'carol')];
    const fromAlice = stalledUpload(r, alice);
    const fromBob = stalledUpload(r, bob);
    await uploadsInProgress(r, 2);

    expect(await metric(r, 'parley_blob_transfers')).toBe(2);
    const refused = await upload(r, carol, randomBytes(10));
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(await refused.json()).toMatchObject({ code: 'RELAY_BUSY', retryAfterMs: 1_000 });

    fromAlice.request.destroy();
    // The relay removes an abandoned upload's file after its connection has gone, and with it its place.
    await uploadsInProgress(r, 1);
    expect((await upload(r, carol, randomBytes(10))).status).toBe(201);
    expect(await fromBob.finish()).toBe(201);
    expect(await metric(r, 'parley_rate_limited_total{limit="maxBlobTransfers"}')).toBe(1);
    expect(await metric(r, 'parley_blob_transfers')).toBe(0);
  });

  it('answers /readyz with 503 once shutting down, on a connection it still serves (an upload in flight, then the probe)', async () => {
    const r = await relay();
    const alice = await tokenFor(r, 'alice');
    const client = connect(r.port, '127.0.0.1');
    let answer = '';
    client.setEncoding('latin1').on('data', (chunk: string) => (answer += chunk));
    const closed = once(client, 'close');
    client.write(`PUT /v1/blobs HTTP/1.1\r\nHost: relay\r\nAuthorization: Bearer ${alice}\r\nContent-Length: 10\r\n\r\n12345`);
    await uploadsInProgress(r, 1);
    // A WebSocket client that never answers the relay's goodbye keeps the shutdown in its grace period.
    const held = await rawWebSocket(r.url);
    const closing = r.close();
    // The rest of the upload, and the probe after it on the same connection.
    client.write('67890GET /readyz HTTP/1.1\r\nHost: relay\r\n\r\n');
    while (!answer.includes('shutting down')) await once(client, 'data');
    expect(answer.match(/^HTTP\/1\.1 \d+ .*$/gm)).toEqual(['HTTP/1.1 201 Created', 'HTTP/1.1 503 Service Unavailable']);
    held.destroy();
    await Promise.all([closing, closed]);
  });

  it('cuts off an upload or a download with no bytes moving for blobIdleTimeoutMs, which frees its place', async () => {
    const log = captureLines();
    const r = await relay({ maxBlobTransfersPerUser: 1, blobIdleTimeoutMs: 200, logLevel: 'info' }, { logDestination: log.stream });
    const [alice, bob] = [await tokenFor(r, 'alice'), await tokenFor(r, 'bob')];
    const stalled = stalledUpload(r, alice);
    // The relay closes it unanswered: the client's request ends in 'socket hang up', then 'close'.
    const cut = new Promise((resolve) => stalled.request.once('close', resolve));
    await uploadsInProgress(r, 1);
    expect((await upload(r, alice, randomBytes(10))).status).toBe(429);
    await cut;
    await uploadsInProgress(r, 0);
    expect((await upload(r, alice, randomBytes(10))).status).toBe(201);

    // A reader that never reads: the relay's writes stop once the sockets' buffers are full.
    const bytes = randomBytes(24 * 1024 * 1024);
    const { id } = (await (await upload(r, bob, bytes)).json()) as { id: string };
    const reader = connect(r.port, '127.0.0.1').pause();
    reader.on('error', () => undefined);
    reader.write(`GET /v1/blobs/${id} HTTP/1.1\r\nHost: relay\r\nAuthorization: Bearer ${alice}\r\nX-Request-Id: never-read\r\n\r\n`);
    expect(await log.next({ event: 'blob_transfer_cut', req: 'never-read' })).toMatchObject({ level: 'info', idleMs: 200 });
    // What it had sent before, and then the end: not the whole blob.
    let received = 0;
    reader.on('data', (chunk: Buffer) => (received += chunk.length));
    await once(reader.resume(), 'end');
    reader.destroy();
    expect(received).toBeGreaterThan(0);
    expect(received).toBeLessThan(bytes.length);

    const whole = await download(r, alice, id);
    expect(whole.status).toBe(200);
    expect(Buffer.from(await whole.arrayBuffer()).equals(bytes)).toBe(true);
    expect(await metric(r, 'parley_connections_cut_total{reason="blob_idle"}')).toBe(2);
    // Cut off by the relay, not failed: no blob_failed line.
    expect(log.lines.filter((line) => line.event === 'blob_failed')).toEqual([]);
  });

  it('closes a kept-alive connection left idle after an upload or a download, as after any other request', async () => {
    const r = await relay();
    const alice = await tokenFor(r, 'alice');
    const { id } = (await (await upload(r, alice, Uint8Array.of(1, 2, 3))).json()) as { id: string };
    // Each connection kept open by its client after its one request.
    const [uploaded, downloaded, whoami] = await Promise.all([
      answerOnceClosed(r, `PUT /v1/blobs HTTP/1.1\r\nHost: relay\r\nAuthorization: Bearer ${alice}\r\nContent-Length: 3\r\n\r\nabc`),
      answerOnceClosed(r, `GET /v1/blobs/${id} HTTP/1.1\r\nHost: relay\r\nAuthorization: Bearer ${alice}\r\n\r\n`),
      answerOnceClosed(r, `GET /v1/whoami HTTP/1.1\r\nHost: relay\r\nAuthorization: Bearer ${alice}\r\n\r\n`),
    ]);
    expect([uploaded, downloaded, whoami].map(statusLine)).toEqual(['HTTP/1.1 201 Created', 'HTTP/1.1 200 OK', 'HTTP/1.1 200 OK']);
    expect(downloaded.endsWith('\x01\x02\x03')).toBe(true);
  });

  it('refuses a maxBlobTransfers over what the descriptors kept for the relay\'s files allow', () => {
    expect(() => resolveOptions({ dataDir: '/d', maxBlobTransfers: 193 })).toThrow(/maxBlobTransfers must be an integer from 1 to 192/);
  });
});
