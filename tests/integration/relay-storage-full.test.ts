import { randomBytes } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Frame } from '../../relay/protocol/index.js';
import type { LogFields } from '../../relay/src/log.js';
import { STORAGE_FULL_RETRY_MS } from '../../relay/src/store/storage-full.js';
import { startTestRelay, type TestRelay } from '../support/relay.js';
import { metric } from '../support/metrics.js';
import { WireClient, createIdentity, expectOk, type TestIdentity } from '../support/wire-client.js';

/** Room for a few dozen 16 KiB envelopes once the schema's pages are in. */
const MAX_DATABASE_BYTES = 1024 * 1024;
const ENVELOPE_BYTES = 16 * 1024;

const relays: TestRelay[] = [];
const clients: WireClient[] = [];

afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.close()));
  for (const relay of relays.splice(0)) await relay.close();
});

interface LoggedEvent {
  readonly event: string;
  readonly fields: LogFields;
}

/** A relay whose database may not grow past MAX_DATABASE_BYTES, with its log events kept. */
async function cappedRelay(): Promise<{ relay: TestRelay; events: LoggedEvent[] }> {
  const events: LoggedEvent[] = [];
  const relay = await startTestRelay(
    {
      maxDatabaseBytes: MAX_DATABASE_BYTES,
      maxQueuedBytesPerUser: 1024 ** 3,
      rateLimits: { messages: { points: 10_000, durationMs: 1_000 }, registrations: { points: 1_000, durationMs: 60_000 } },
    },
    { log: (event, fields = {}) => void events.push({ event, fields }) },
  );
  relays.push(relay);
  return { relay, events };
}

async function client(opened: Promise<WireClient>): Promise<WireClient> {
  const connected = await opened;
  clients.push(connected);
  return connected;
}

function messageId(): Uint8Array {
  return new Uint8Array(randomBytes(16));
}

function errorOf(frame: Frame): { code: string; retryAfterMs: number } {
  if (frame.name !== 'ERROR') throw new Error(`expected an ERROR, got ${frame.name}`);
  return { code: frame.code, retryAfterMs: frame.retryAfterMs };
}

/** Register bob and leave him offline; alice sends him envelopes until the relay refuses one. */
async function fillUp(r: TestRelay, bob: TestIdentity): Promise<{ alice: WireClient; accepted: Uint8Array[]; refusal: Frame }> {
  await (await WireClient.registered(r.url, bob)).close();
  const alice = await client(WireClient.registered(r.url, await createIdentity('alice')));
  const accepted: Uint8Array[] = [];
  for (let i = 0; i < 200; i++) {
    const id = messageId();
    const reply = await alice.request({ name: 'SEND', to: bob.username, messageId: id, envelope: new Uint8Array(randomBytes(ENVELOPE_BYTES)) });
    if (reply.name !== 'OK') return { alice, accepted, refusal: reply };
    accepted.push(id);
  }
  throw new Error('the relay took 200 envelopes under its database cap');
}

describe('relay storage full', () => {
  it('refuses writes with STORAGE_FULL at maxDatabaseBytes, serves what it holds, and takes writes again once acks free room', async () => {
    const { relay: r, events } = await cappedRelay();
    const bob = await createIdentity('bob');
    const { alice, accepted, refusal } = await fillUp(r, bob);

    expect(accepted.length).toBeGreaterThan(10);
    expect(errorOf(refusal)).toEqual({ code: 'STORAGE_FULL', retryAfterMs: STORAGE_FULL_RETRY_MS });
    const again = await alice.request({ name: 'SEND', to: 'bob', messageId: messageId(), envelope: new Uint8Array(ENVELOPE_BYTES) });
    expect(errorOf(again).code).toBe('STORAGE_FULL');
    // Reads go on, and the connection stays open.
    expect((await alice.request({ name: 'LOOKUP', username: 'bob' })).name).toBe('USER');
    // The relay's own writes that shared a refused SEND's commit (its append of delivered ids) count as well.
    expect(await metric(r, 'parley_storage_full_total')).toBeGreaterThanOrEqual(2);
    // One line for them all, not one each.
    const logged = events.filter((e) => e.event === 'storage_full');
    expect(logged).toHaveLength(1);
    expect(logged[0]?.fields).toMatchObject({ refused: 1, error: 'SqliteError', detail: 'database or disk is full' });
    expect(events.filter((e) => e.event === 'internal_error')).toEqual([]);
    // What an operator alerts on: the database at its cap, short of it by less than the refused envelope's pages.
    expect(await metric(r, 'parley_database_max_bytes')).toBe(MAX_DATABASE_BYTES);
    const databaseBytes = await metric(r, 'parley_database_bytes');
    expect(databaseBytes).toBeLessThanOrEqual(MAX_DATABASE_BYTES);
    expect(databaseBytes).toBeGreaterThan(MAX_DATABASE_BYTES - 2 * ENVELOPE_BYTES);

    // Everything accepted is delivered, in order; acking it frees its pages.
    const recipient = await client(WireClient.authenticated(r.url, bob));
    const delivered: Uint8Array[] = [];
    for (let frame = await recipient.next(); frame.name !== 'DRAINED'; frame = await recipient.next()) {
      if (frame.name !== 'DELIVER') throw new Error(`expected DELIVER, got ${frame.name}`);
      delivered.push(frame.messageId);
    }
    expect(delivered).toEqual(accepted);
    recipient.post({ name: 'ACKS', messageIds: Buffer.concat(delivered) });
    await recipient.request({ name: 'LOOKUP', username: 'alice' });
    expect(r.queueDepth('bob')).toBe(0);

    await expectOk(alice.request({ name: 'SEND', to: 'bob', messageId: messageId(), envelope: new Uint8Array(randomBytes(ENVELOPE_BYTES)) }));
    expect((await recipient.next('DELIVER')).envelope).toHaveLength(ENVELOPE_BYTES);
  });

  it('refuses with STORAGE_FULL the envelopes pushed live that their recipient did not ack before they had to be stored', async () => {
    const { relay: r, events } = await cappedRelay();
    const bob = await client(WireClient.registered(r.url, await createIdentity('bob')));
    const { alice } = await fillUp(r, await createIdentity('carol'));
    // One hold's envelopes share a commit; the first that finds no room may end SQLite's transaction for them all.
    const sent = Array.from({ length: 3 }, () => alice.request({ name: 'SEND', to: 'bob', messageId: messageId(), envelope: new Uint8Array(randomBytes(ENVELOPE_BYTES)) }));
    for (let n = 0; n < 3; n++) expect((await bob.next('DELIVER')).envelope).toHaveLength(ENVELOPE_BYTES);
    expect((await Promise.all(sent)).map((reply) => errorOf(reply).code)).toEqual(['STORAGE_FULL', 'STORAGE_FULL', 'STORAGE_FULL']);
    expect(events.filter((e) => e.event === 'internal_error')).toEqual([]);
  });

  it('stops cleanly with acked ids it has no room to log, and starts again on the same data with nothing queued lost', async () => {
    const { relay: r, events } = await cappedRelay();
    const bob = await client(WireClient.registered(r.url, await createIdentity('bob')));
    const carol = await createIdentity('carol');
    const { alice, accepted } = await fillUp(r, carol);

    // Delivered live and acked in time, these are never stored; only their ids are, and those need pages.
    const replies: Frame[] = [];
    for (let wave = 0; wave < 40; wave++) {
      const sent = Array.from({ length: 50 }, () => alice.request({ name: 'SEND', to: 'bob', messageId: messageId(), envelope: new Uint8Array(64) }));
      const ids: Uint8Array[] = [];
      while (ids.length < 50) ids.push((await bob.next('DELIVER')).messageId);
      bob.post({ name: 'ACKS', messageIds: Buffer.concat(ids) });
      replies.push(...(await Promise.all(sent)));
    }
    expect(replies.filter((reply) => reply.name === 'OK').length).toBeGreaterThan(1_900);
    const refusedBeforeStop = await metric(r, 'parley_storage_full_total');

    // Stops (its last append of ids refused), then starts again on the same folder.
    const restarted = await r.restart();
    relays.push(restarted);
    expect(events.some((e) => e.event === 'storage_full')).toBe(true);
    expect(events.filter((e) => e.event === 'internal_error')).toEqual([]);
    expect(refusedBeforeStop).toBeGreaterThan(1);
    expect(restarted.queueDepth(carol.username)).toBe(accepted.length);
  });

  it('refuses a registration it has no room for with STORAGE_FULL, closes with 1013, and stores nothing of it', async () => {
    const { relay: r } = await cappedRelay();
    const { alice } = await fillUp(r, await createIdentity('bob'));
    // The users table's last page takes a few more; then there is no page left for the next.
    for (let i = 0; i < 500; i++) {
      const identity = await createIdentity(`user${i}`);
      const connection = await client(WireClient.connect(r.url));
      const reply = await connection.register(identity);
      if (reply.name === 'OK') continue;
      expect(errorOf(reply)).toEqual({ code: 'STORAGE_FULL', retryAfterMs: STORAGE_FULL_RETRY_MS });
      expect((await connection.closed).code).toBe(1013);
      expect(errorOf(await alice.request({ name: 'LOOKUP', username: identity.username })).code).toBe('USER_NOT_FOUND');
      expect((await alice.request({ name: 'LOOKUP', username: 'bob' })).name).toBe('USER');
      return;
    }
    throw new Error('the relay registered 500 users under its database cap');
  });

  it('answers an upload 507 STORAGE_FULL when the database is full, and keeps no file of it', async () => {
    const { relay: r } = await cappedRelay();
    await fillUp(r, await createIdentity('bob'));
    const uploader = await client(WireClient.registered(r.url, await createIdentity('carol')));
    const token = await uploader.request({ name: 'TOKEN_REQUEST' });
    if (token.name !== 'TOKEN') throw new Error(`expected TOKEN, got ${token.name}`);

    const refusedBefore = await metric(r, 'parley_storage_full_total');
    // The blobs table's last page takes a few rows more; then there is no page left for the next.
    let stored = 0;
    let refused: Response | undefined;
    while (refused === undefined && stored < 500) {
      const put = await fetch(`http://127.0.0.1:${r.port}/v1/blobs`, { method: 'PUT', headers: { authorization: `Bearer ${token.token}` }, body: randomBytes(64) });
      if (put.status === 201) stored += 1;
      else refused = put;
    }
    expect(refused?.status).toBe(507);
    expect(refused?.headers.get('retry-after')).toBe(String(STORAGE_FULL_RETRY_MS / 1000));
    // What is left of a refused body is not read, so the connection is not kept for another request.
    expect(refused?.headers.get('connection')).toBe('close');
    expect(await refused?.json()).toEqual({ code: 'STORAGE_FULL', message: 'the relay is out of storage; try again later', retryAfterMs: STORAGE_FULL_RETRY_MS });
    expect(await readdir(join(r.dataDir, 'blobs'))).toHaveLength(stored);
    expect(await metric(r, 'parley_storage_full_total')).toBe(refusedBefore + 1);
  });
});
