import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, connect, Socket, type AddressInfo, type Server } from 'node:net';
import { PassThrough } from 'node:stream';
import { createServer as createTlsServer, connect as tlsConnect } from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { emitReadsAsData, readIntoSharedBuffer } from '../../relay/src/shared-read-buffer.js';
import { selfSignedCertificate } from '../support/certificate.js';

const servers: Server[] = [];
const sockets: Socket[] = [];

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

/** A loopback connection: the server's side (as Node accepted it, paused like the relay's) and the client's. */
async function connection(): Promise<{ accepted: Socket; client: Socket }> {
  const server = createServer({ pauseOnConnect: true });
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const client = connect((server.address() as AddressInfo).port, '127.0.0.1');
  const [accepted] = (await once(server, 'connection')) as [Socket];
  await once(client, 'connect');
  sockets.push(accepted, client);
  return { accepted, client };
}

/** Chunks as they come, and a promise for when they add up to a length. */
class Chunks {
  readonly list: Buffer[] = [];
  private length = 0;
  private waiting: Array<{ length: number; resolve: () => void }> = [];

  add(chunk: Buffer): void {
    this.list.push(chunk);
    this.length += chunk.length;
    this.waiting = this.waiting.filter((wait) => (wait.length <= this.length ? void wait.resolve() : true));
  }

  until(length: number): Promise<void> {
    return length <= this.length ? Promise.resolve() : new Promise((resolve) => this.waiting.push({ length, resolve }));
  }

  text(): string {
    return Buffer.concat(this.list).toString();
  }
}

/** Reads taken into the shared buffer: a copy of each, since the buffer is reused. */
function takeReads(socket: Socket): { reads: Chunks; buffers: Set<Buffer>; taken: boolean } {
  const reads = new Chunks();
  const buffers = new Set<Buffer>();
  const taken = readIntoSharedBuffer(socket, (bytes, buffer) => {
    buffers.add(buffer);
    reads.add(Buffer.from(buffer.subarray(0, bytes)));
  });
  return { reads, buffers, taken };
}

function dataOf(socket: Socket): Chunks {
  const chunks = new Chunks();
  socket.on('data', (chunk: Buffer) => chunks.add(chunk));
  return chunks;
}

const bytesOf = (length: number, seed: number): Buffer => Buffer.from(Array.from({ length }, (_, i) => (seed + i * 7) & 0xff));

/** A second connection, read into the shared buffer, whose reads show when the loop has polled (see writeWhilePaused). */
async function barrierConnection(): Promise<{ client: Socket; reads: Chunks }> {
  const { accepted, client } = await connection();
  const { reads } = takeReads(accepted);
  accepted.resume();
  return { client, reads };
}

/**
 * Writes to a paused socket and waits until it would have read them: on loopback a write is in the receiver's queue
 * when it returns, so once a later write to a socket that reads has been read, and that poll of the loop is over,
 * the paused socket's bytes were there to be read too.
 */
async function writeWhilePaused(client: Socket, text: string, barrier: { client: Socket; reads: Chunks }): Promise<void> {
  client.write(text);
  const before = Buffer.concat(barrier.reads.list).length;
  barrier.client.write('barrier');
  await barrier.reads.until(before + 'barrier'.length);
  await new Promise((resolve) => setImmediate(resolve));
}

describe('reading sockets into one shared buffer', () => {
  it("hands every read of a socket Node accepted to the callback, not to 'data', all in one buffer", async () => {
    const { accepted, client } = await connection();
    const dataEvents = dataOf(accepted);
    const { reads, buffers, taken } = takeReads(accepted);
    expect(taken).toBe(true);
    accepted.resume();
    // Longer than the buffer, so it takes several reads.
    const sent = bytesOf(200_000, 3);
    client.write(sent);
    await reads.until(sent.length);
    expect(Buffer.concat(reads.list).equals(sent)).toBe(true);
    expect(reads.list.length).toBeGreaterThan(1);
    expect(buffers.size).toBe(1);
    expect(dataEvents.list).toEqual([]);
  });

  it('shares its buffer between sockets', async () => {
    const first = await connection();
    const second = await connection();
    const a = takeReads(first.accepted);
    const b = takeReads(second.accepted);
    first.accepted.resume();
    second.accepted.resume();
    first.client.write('one');
    second.client.write('two');
    await Promise.all([a.reads.until(3), b.reads.until(3)]);
    expect([a.reads.text(), b.reads.text()]).toEqual(['one', 'two']);
    expect([...a.buffers][0]).toBe([...b.buffers][0]);
  });

  it('reads nothing while the socket is paused, and reads on from where it was once resumed', async () => {
    const paused = await connection();
    const barrier = await barrierConnection();
    const held = takeReads(paused.accepted);
    await writeWhilePaused(paused.client, 'held back', barrier);
    expect(held.reads.list).toEqual([]);

    paused.accepted.resume();
    await held.reads.until('held back'.length);
    paused.accepted.pause();
    await writeWhilePaused(paused.client, ' and more', barrier);
    expect(held.reads.text()).toBe('held back');
    paused.accepted.resume();
    await held.reads.until('held back and more'.length);
    expect(held.reads.text()).toBe('held back and more');
  });

  it('keeps a socket paused that was reading before it was paused and taken', async () => {
    const reading = await connection();
    const barrier = await barrierConnection();
    const dataEvents = dataOf(reading.accepted);
    reading.accepted.resume();
    reading.client.write('read as data');
    await dataEvents.until('read as data'.length);
    reading.accepted.pause();
    const held = takeReads(reading.accepted);
    await writeWhilePaused(reading.client, 'held back', barrier);
    expect(held.reads.list).toEqual([]);
    reading.accepted.resume();
    await held.reads.until('held back'.length);
    expect([dataEvents.text(), held.reads.text()]).toEqual(['read as data', 'held back']);
  });

  it("still emits as 'data' what the stream held before, and ends when the client does", async () => {
    const { accepted, client } = await connection();
    accepted.unshift(Buffer.from('held by the stream '));
    const dataEvents = dataOf(accepted);
    const { reads } = takeReads(accepted);
    accepted.resume();
    client.end('then read');
    await once(accepted, 'end');
    expect([dataEvents.text(), reads.text()]).toEqual(['held by the stream ', 'then read']);
  });

  it("goes back to 'data' events, each a copy of its read", async () => {
    const { accepted, client } = await connection();
    const { reads } = takeReads(accepted);
    accepted.resume();
    client.write('before');
    await reads.until('before'.length);
    emitReadsAsData(accepted);
    const dataEvents = dataOf(accepted);
    const first = bytesOf(100_000, 1);
    client.write(first);
    await dataEvents.until(first.length);
    const second = bytesOf(1_000, 2);
    client.write(second);
    await dataEvents.until(first.length + second.length);
    // Each chunk still holds its own bytes after later reads reused the shared buffer.
    expect(Buffer.concat(dataEvents.list).equals(Buffer.concat([first, second]))).toBe(true);
    expect(reads.text()).toBe('before');
  });

  it('leaves alone what it cannot read that way: streams, unconnected and closed sockets', async () => {
    const listener = (): void => undefined;
    expect(readIntoSharedBuffer(new PassThrough(), listener)).toBe(false);
    expect(readIntoSharedBuffer(new Socket(), listener)).toBe(false);
    const { accepted } = await connection();
    accepted.destroy();
    expect(readIntoSharedBuffer(accepted, listener)).toBe(false);
  });

  it('leaves a TLS socket reading its decrypted bytes as before', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'parley-shared-read-'));
    try {
      const certificate = selfSignedCertificate(dir, 'localhost', { subjectAltName: 'IP:127.0.0.1' });
      const server = createTlsServer({ cert: readFileSync(certificate.certPath), key: readFileSync(certificate.keyPath) });
      servers.push(server);
      server.listen(0, '127.0.0.1');
      await once(server, 'listening');
      const client = tlsConnect({ port: (server.address() as AddressInfo).port, host: '127.0.0.1', ca: readFileSync(certificate.certPath) });
      const [accepted] = (await once(server, 'secureConnection')) as [Socket];
      sockets.push(accepted, client);
      expect(readIntoSharedBuffer(accepted, () => undefined)).toBe(false);
      const dataEvents = dataOf(accepted);
      client.write('in the clear');
      await dataEvents.until('in the clear'.length);
      expect(dataEvents.text()).toBe('in the clear');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('takes a socket once', async () => {
    const { accepted } = await connection();
    expect(readIntoSharedBuffer(accepted, () => undefined)).toBe(true);
    expect(readIntoSharedBuffer(accepted, () => undefined)).toBe(false);
  });
});
