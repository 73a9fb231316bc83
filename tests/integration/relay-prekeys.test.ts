import { afterEach, describe, expect, it } from 'vitest';
import {
  decodeOneTimePrekeys,
  encodeOneTimePrekeys,
  encodePqPrekeys,
  signedPrekeyTranscript,
  type Frame,
} from '../../relay/protocol/index.js';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3-multiple-ciphers';
import { migrate, MIGRATIONS, SCHEMA_VERSION, schemaVersion } from '../../relay/src/store/migrations.js';
import { startTestRelay, type TestRelay } from '../support/relay.js';
import { key, pqEntry, publishAll, sign } from '../support/prekeys.js';
import { WireClient, createIdentity } from '../support/wire-client.js';

const relays: TestRelay[] = [];
const clients: WireClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.close()));
  for (const relay of relays.splice(0).reverse()) await relay.close();
});

function errorCode(frame: Frame): string {
  return frame.name === 'ERROR' ? frame.code : frame.name;
}

describe('relay prekey directory', () => {
  it('hands out each one-time key once, then the last-resort PQ key, and tells the owner when stock is low', async () => {
    const relay = await startTestRelay();
    relays.push(relay);
    const bob = await createIdentity('bob');
    const alice = await createIdentity('alice');
    const bobClient = await WireClient.registered(relay.url, bob);
    const aliceClient = await WireClient.registered(relay.url, alice);
    clients.push(bobClient, aliceClient);
    await publishAll(bobClient, bob);

    const fetched = [];
    for (let i = 0; i < 3; i += 1) {
      const reply = await aliceClient.request({ name: 'FETCH_PREKEYS', username: 'bob' });
      if (reply.name !== 'PREKEY_BUNDLE') throw new Error(`expected a bundle, got ${errorCode(reply)}`);
      fetched.push({ oneTime: decodeOneTimePrekeys(reply.oneTimePrekey)?.map((entry) => entry.keyId), pq: reply.pqPrekeyId, lastResort: reply.pqLastResort, spk: reply.signedPrekeyId });
      expect(reply.identityKey).toEqual(bob.identityKey);
    }
    expect(fetched).toEqual([
      { oneTime: [11], pq: 21, lastResort: 0, spk: 5 },
      { oneTime: [12], pq: 29, lastResort: 1, spk: 5 },
      { oneTime: [], pq: 29, lastResort: 1, spk: 5 },
    ]);
    const low = await bobClient.next('PREKEYS_LOW');
    expect(low.oneTimeCount).toBeLessThan(10);

    // The directory survives a restart: what was handed out stays gone.
    const restarted = await relay.restart();
    relays.push(restarted);
    const again = await WireClient.authenticated(restarted.url, alice);
    clients.push(again);
    const after = await again.request({ name: 'FETCH_PREKEYS', username: 'bob' });
    expect(after.name === 'PREKEY_BUNDLE' ? [after.oneTimePrekey.length, after.pqPrekeyId] : errorCode(after)).toEqual([0, 29]);
  });

  it('refuses forged signatures, malformed lists and users without prekeys with stable codes', async () => {
    const relay = await startTestRelay();
    relays.push(relay);
    const bob = await createIdentity('bob');
    const mallory = await createIdentity('mallory');
    const client = await WireClient.registered(relay.url, bob);
    clients.push(client);
    const forgedSpk = await client.request({ name: 'PUBLISH_SIGNED_PREKEY', keyId: 1, publicKey: key(1), signature: sign(mallory, signedPrekeyTranscript(1, key(1))) });
    expect(errorCode(forgedSpk)).toBe('PREKEY_BAD_SIGNATURE');
    const forgedPq = await client.request({ name: 'PUBLISH_PQ_PREKEYS', prekeys: encodePqPrekeys([pqEntry(mallory, 3, true)]) });
    expect(errorCode(forgedPq)).toBe('PREKEY_BAD_SIGNATURE');
    const malformed = await client.request({ name: 'PUBLISH_ONE_TIME_PREKEYS', prekeys: key(1, 35) });
    expect(errorCode(malformed)).toBe('PREKEYS_MALFORMED');
    const tooMany = await client.request({ name: 'PUBLISH_ONE_TIME_PREKEYS', prekeys: encodeOneTimePrekeys(Array.from({ length: 101 }, (_, i) => ({ keyId: i, publicKey: key(1) }))) });
    expect(errorCode(tooMany)).toBe('PREKEYS_TOO_MANY');
    expect(errorCode(await client.request({ name: 'PUBLISH_ONE_TIME_PREKEYS', prekeys: new Uint8Array() }))).toBe('PREKEYS_MALFORMED');
    expect(errorCode(await client.request({ name: 'PUBLISH_PQ_PREKEYS', prekeys: new Uint8Array() }))).toBe('PREKEYS_MALFORMED');
    const twoLastResorts = encodePqPrekeys([pqEntry(bob, 3, true), pqEntry(bob, 4, true)]);
    expect(errorCode(await client.request({ name: 'PUBLISH_PQ_PREKEYS', prekeys: twoLastResorts }))).toBe('PREKEYS_MALFORMED');
    const tooManyPq = encodePqPrekeys(Array.from({ length: 101 }, (_, i) => pqEntry(bob, 100 + i, false)));
    expect(errorCode(await client.request({ name: 'PUBLISH_PQ_PREKEYS', prekeys: tooManyPq }))).toBe('PREKEYS_TOO_MANY');
    // One forged key among good ones refuses the whole list.
    const oneForged = encodePqPrekeys([pqEntry(bob, 6, false), pqEntry(mallory, 7, false), pqEntry(bob, 8, true)]);
    expect(errorCode(await client.request({ name: 'PUBLISH_PQ_PREKEYS', prekeys: oneForged }))).toBe('PREKEY_BAD_SIGNATURE');
    const none = await client.request({ name: 'FETCH_PREKEYS', username: 'bob' });
    expect(errorCode(none)).toBe('PREKEYS_UNAVAILABLE');
    const nobody = await client.request({ name: 'FETCH_PREKEYS', username: 'nobody' });
    expect(errorCode(nobody)).toBe('USER_NOT_FOUND');
  });

  it('migration 7 adds the prekey directory to a version 1 database and keeps its users and queue', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'parley-relay-migrate-'));
    const db = new Database(path.join(dir, 'relay.sqlite'));
    try {
      db.transaction(() => {
        db.exec(MIGRATIONS[0]?.sql ?? '');
        db.pragma('user_version = 1');
      })();
      db.prepare('INSERT INTO users (username, identity_key, agreement_key, agreement_sig, registered_at) VALUES (?, ?, ?, ?, ?)').run('bob', key(1), key(2), key(3, 64), 1);
      db.prepare('INSERT INTO queue (recipient, message_id, envelope, received_at) VALUES (?, ?, ?, ?)').run('bob', key(4, 16), key(5, 10), 2);
      migrate(db);
      expect(schemaVersion(db)).toBe(SCHEMA_VERSION);
      expect(db.prepare('SELECT count(*) FROM users').pluck().get()).toBe(1);
      expect(db.prepare('SELECT count(*) FROM queue').pluck().get()).toBe(1);
      db.prepare('INSERT INTO signed_prekeys (username, key_id, public_key, signature, published_at) VALUES (?, ?, ?, ?, ?)').run('bob', 1, key(6), key(7, 64), 3);
      expect(db.prepare('SELECT count(*) FROM one_time_prekeys').pluck().get()).toBe(0);
    } finally {
      db.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
