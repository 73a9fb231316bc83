import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { Agent, request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { startBundledRelay } from '../support/bundled-relay.js';
import { useBundledRelay } from '../support/cli-bundle.js';
import { useCleanups } from '../support/cleanups.js';
import { captureLines } from '../support/log-capture.js';
import { startTestRelay } from '../support/relay.js';
import { WireClient, createIdentity, expectOk } from '../support/wire-client.js';

const cleanups = useCleanups();
const relayBundle = useBundledRelay();

/** A TCP connection to the relay that sends nothing (a client still before its first request). */
async function silentSocket(port: number): Promise<Socket> {
  const socket = connect(port, '127.0.0.1');
  socket.on('error', () => undefined);
  cleanups.push(async () => socket.destroy());
  await once(socket, 'connect');
  return socket;
}

/** Whether the relay closed a new TCP connection without sending a byte. */
async function closedUnanswered(port: number): Promise<boolean> {
  const socket = connect(port, '127.0.0.1');
  let received = 0;
  socket.on('data', (chunk: Buffer) => (received += chunk.length));
  socket.on('error', () => undefined);
  await once(socket, 'close');
  return received === 0;
}

/** One HTTP exchange on `agent`'s kept-alive socket (false: a connection of its own): its status and body. */
function exchange(agent: Agent | false, port: number, method: string, path: string, headers: Record<string, string>, body?: Buffer): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request({ agent, host: '127.0.0.1', port, method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function accessToken(client: WireClient): Promise<string> {
  const reply = await client.request({ name: 'TOKEN_REQUEST' });
  if (reply.name !== 'TOKEN') throw new Error(`expected TOKEN, got ${reply.name}`);
  return reply.token;
}

/** A GET on a connection of its own (closed after it): its status and body. Rejects if the relay closes it unanswered. */
function getAlone(port: number, path: string): Promise<{ status: number; body: Buffer }> {
  return exchange(false, port, 'GET', path, {});
}

/** GET `path` on new connections until the relay takes one (it counts a closed socket once it has seen it close): the answer, and how many it refused. */
async function getOnceAccepted(port: number, path: string): Promise<{ body: string; refused: number }> {
  for (let refused = 0; refused < 1_000; refused++) {
    try {
      return { body: (await getAlone(port, path)).body.toString(), refused };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ECONNRESET') throw error;
    }
  }
  throw new Error(`the relay refused 1000 connections to ${path}`);
}

/** A series' value in a /metrics text. */
function valueOf(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.split(' ').at(-1));
}

describe('the relay at maxConnections', () => {
  it('counts every TCP connection it holds: WebSocket clients, sockets before their first request, HTTP', async () => {
    const relay = await startTestRelay({ maxConnections: 10 });
    cleanups.push(() => relay.close());
    const alice = await WireClient.registered(relay.url, await createIdentity('alice'));
    const bob = await WireClient.registered(relay.url, await createIdentity('bob'));
    await silentSocket(relay.port);
    await silentSocket(relay.port);
    const scraped = (await getAlone(relay.port, '/metrics')).body.toString();
    // Alice, Bob, the two silent sockets and the scrape's own.
    expect(valueOf(scraped, 'parley_tcp_connections')).toBe(5);
    expect(valueOf(scraped, 'parley_tcp_connections_max')).toBe(10);
    expect(valueOf(scraped, 'parley_connections')).toBe(2);
    await alice.close();
    await bob.close();
  });

  it('closes a connection past it as it arrives, counted and logged once; those it holds are served, and one that closes makes room', async () => {
    const log = captureLines();
    const relay = await startTestRelay({ maxConnections: 3, logLevel: 'info' }, { logDestination: log.stream });
    cleanups.push(() => relay.close());
    const alice = await WireClient.registered(relay.url, await createIdentity('alice'));
    const bob = await WireClient.registered(relay.url, await createIdentity('bob'));
    // A socket before its first request holds a place too: it holds a descriptor.
    const silent = await silentSocket(relay.port);

    await expect(WireClient.open(relay.url)).rejects.toThrow();
    expect(await closedUnanswered(relay.port)).toBe(true);
    expect(await log.next({ event: 'connections_full' })).toMatchObject({ level: 'warn', refused: 1, maxConnections: 3 });
    // The second refusal within the minute adds no line.
    expect(log.lines.filter((line) => line.event === 'connections_full')).toHaveLength(1);

    // Everyone it holds is served.
    await expectOk(alice.request({ name: 'SEND', to: 'bob', messageId: new Uint8Array(randomBytes(16)), envelope: new Uint8Array([1, 2, 3]) }));
    expect((await bob.next('DELIVER')).envelope).toEqual(new Uint8Array([1, 2, 3]));

    silent.destroy();
    const { body, refused } = await getOnceAccepted(relay.port, '/metrics');
    expect(valueOf(body, 'parley_rate_limited_total{limit="maxConnections"}')).toBe(2 + refused);
    await alice.close();
    await bob.close();
  });

  it('keeps descriptors for its own files: with every connection it may hold taken, an upload on a connection it holds is stored', async () => {
    const dataDir = await cleanups.tempDir('parley-relay-');
    // 400 descriptors leave 144 connections; sockets before their first request from one address are let through here.
    const relay = startBundledRelay(cleanups, relayBundle(), ['--data', dataDir, '--max-handshakes-per-ip', '1000'], ['prlimit', '--nofile=400']);
    const url = await relay.url;
    const port = Number(new URL(url).port);
    expect(await relay.stderr.next({ event: 'relay_started' })).toMatchObject({ maxConnections: 144 });
    const client = await WireClient.registered(url, await createIdentity('alice'));
    const token = await accessToken(client);
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    cleanups.push(async () => agent.destroy());
    // An API request: its connection is kept alive (a probe's is not).
    expect((await exchange(agent, port, 'GET', '/v1/whoami', { authorization: `Bearer ${token}` })).status).toBe(200);

    // More sockets than the relay has descriptors for; they wait before their first request.
    const sockets = Array.from({ length: 450 }, () => connect(port, '127.0.0.1').on('error', () => undefined));
    cleanups.push(async () => {
      for (const socket of sockets) socket.destroy();
    });
    expect(await relay.stderr.next({ event: 'connections_full' })).toMatchObject({ maxConnections: 144 });

    const bytes = randomBytes(64 * 1024);
    const put = await exchange(agent, port, 'PUT', '/v1/blobs', { authorization: `Bearer ${token}`, 'content-length': String(bytes.length) }, bytes);
    expect(put.status, put.body.toString()).toBe(201);
    const { id } = JSON.parse(put.body.toString()) as { id: string };
    const got = await exchange(agent, port, 'GET', `/v1/blobs/${id}`, { authorization: `Bearer ${token}` });
    expect(got.status).toBe(200);
    expect(got.body.equals(bytes)).toBe(true);
    expect(relay.stderr.lines.filter((line) => line.event === 'blob_failed')).toEqual([]);
    await client.close();
  });

  it('takes its default from the descriptor limit, and refuses to start with more than the limit leaves', async () => {
    const dataDir = await cleanups.tempDir('parley-relay-');
    const run = (nofile: number, ...args: string[]) =>
      promisify(execFile)('prlimit', [`--nofile=${nofile}`, process.execPath, relayBundle(), '--data', dataDir, '--port', '0', ...args]).then(
        ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
        (error: { code: number; stdout: string; stderr: string }) => ({ code: error.code, stdout: error.stdout, stderr: error.stderr }),
      );
    const checked = await run(1_000, '--check');
    expect(checked.code).toBe(0);
    expect(checked.stdout).toMatch(/^ {2}connections +at most 744 at once \(this process may open 1000 files; 256 are kept for the relay's own\)$/m);

    const over = await run(1_000, '--max-connections', '745');
    expect(over.code).toBe(2);
    expect(over.stderr).toMatch(/^relay: maxConnections 745 is more than this process's 1000 open files leave beside the 256 the relay keeps for its own \(744\): raise the limit \(LimitNOFILE/m);
    const tooFew = await run(256);
    expect(tooFew.code).toBe(2);
    expect(tooFew.stderr).toMatch(/^relay: this process may open only 256 files, and the relay keeps 256 for its own/m);
  });
});
