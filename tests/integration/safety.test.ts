import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3-multiple-ciphers';
import { describe, expect, it } from 'vitest';
import { toHex } from '../../app/core/crypto/bytes.js';
import { IdentityKeyPair } from '../../app/core/crypto/identity.js';
import { generateOneTimePrekeys, generatePqPrekey, generateSignedPrekey } from '../../app/core/crypto/prekeys.js';
import { randomBytes } from '../../app/core/crypto/random.js';
import { loadSodium } from '../../app/core/crypto/sodium.js';
import { openCore, type Core } from '../../app/core/index.js';
import { encodeOneTimePrekeys, encodePqPrekeys } from '../../relay/protocol/index.js';
import { DATABASE_FILE } from '../../relay/src/store/sqlite.js';
import { prekeyBundleFromFrame } from '../../app/core/net/prekey-bundle.js';
import { RawSessionSender } from '../support/raw-sender.js';
import { startTestRelay, type TestRelay } from '../support/relay.js';
import { WireClient, expectOk, type TestIdentity } from '../support/wire-client.js';
import { useCleanups } from '../support/cleanups.js';
import { freshUsername } from '../support/cores.js';
import { value, code } from '../support/result.js';

const PASSPHRASE = 'a long enough passphrase';
const cleanups = useCleanups();

async function core(): Promise<Core> {
  const dir = await mkdtemp(path.join(tmpdir(), 'parley-safety-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const opened = await openCore({ profileDir: dir });
  cleanups.push(() => opened.close());
  return opened;
}

function asWire(name: string, identity: IdentityKeyPair): TestIdentity {
  const keys = identity.toStored();
  return { username: name, identityKey: keys.identityKey, identitySecret: keys.identitySecret, agreementKey: keys.agreementKey, agreementSig: keys.agreementSig };
}

/** What a relay operator's reset of an account looks like: the username now belongs to other keys (written while the relay runs). */
function rebindOnRelay(relay: TestRelay, name: string, identity: IdentityKeyPair): void {
  const db = new Database(path.join(relay.dataDir, DATABASE_FILE));
  try {
    db.pragma('busy_timeout = 5000');
    db.prepare('UPDATE users SET identity_key = ?, agreement_key = ?, agreement_sig = ? WHERE username = ?').run(identity.identityKey, identity.agreementKey, identity.agreementSig, name);
    for (const table of ['signed_prekeys', 'one_time_prekeys', 'pq_prekeys']) db.prepare(`DELETE FROM ${table} WHERE username = ?`).run(name);
  } finally {
    db.close();
  }
}

/** Authenticate as `name` with these keys and publish a full set of prekeys. */
async function publishingClient(relay: TestRelay, name: string, identity: IdentityKeyPair): Promise<WireClient> {
  const sodium = await loadSodium();
  const client = await WireClient.authenticated(relay.url, asWire(name, identity));
  cleanups.push(() => client.close());
  const signed = generateSignedPrekey(sodium, identity, 1);
  await expectOk(client.request({ name: 'PUBLISH_SIGNED_PREKEY', keyId: signed.id, publicKey: signed.keyPair.publicKey, signature: signed.signature }));
  const pq = generatePqPrekey(sodium, identity, 2, true);
  await expectOk(client.request({ name: 'PUBLISH_PQ_PREKEYS', prekeys: encodePqPrekeys([{ keyId: pq.id, lastResort: true, publicKey: pq.keyPair.publicKey, signature: pq.signature }]) }));
  const oneTime = generateOneTimePrekeys(sodium, 3, 2).map((record) => ({ keyId: record.id, publicKey: record.keyPair.publicKey }));
  await expectOk(client.request({ name: 'PUBLISH_ONE_TIME_PREKEYS', prekeys: encodeOneTimePrekeys(oneTime) }));
  return client;
}

function nextUpdate(target: Core, name: string): Promise<{ identityChanged?: boolean }> {
  return new Promise((resolve) => {
    const stop = target.on('contact.updated', (contact) => {
      if (contact.username !== name) return;
      stop();
      resolve(contact);
    });
  });
}

describe('safety numbers and identity changes', () => {
  it('shows the same 60 digits on both sides, verifies with a matching scan only', async () => {
    const relay = await startTestRelay();
    cleanups.push(() => relay.close());
    const [a, b] = [await core(), await core()];
    const [nameA, nameB] = [freshUsername('a'), freshUsername('b')];
    value(await a.invoke('profile.create', { username: nameA, passphrase: PASSPHRASE, relayUrl: relay.url }));
    value(await b.invoke('profile.create', { username: nameB, passphrase: PASSPHRASE, relayUrl: relay.url }));
    value(await a.invoke('contacts.add', { username: nameB }));
    value(await b.invoke('contacts.add', { username: nameA }));
    const fromA = value(await a.invoke('safety.get', { contact: nameB }));
    const fromB = value(await b.invoke('safety.get', { contact: nameA }));
    expect(fromA.digits).toMatch(/^\d{60}$/);
    expect(fromB.digits).toBe(fromA.digits);
    expect(fromA.qrSvg).toMatch(/^<svg[\s\S]*<\/svg>\s*$/);
    expect(fromA.verified).toBe(false);

    expect(code(await a.invoke('safety.markVerified', { contact: nameB, verified: true, scannedPayload: 'PARLEY-SAFETY-1:' + '1'.repeat(60) }))).toBe('SAFETY_NUMBER_MISMATCH');
    expect(value(await a.invoke('contacts.list', {}))[0]?.verified).toBe(false);
    const verified = value(await a.invoke('safety.markVerified', { contact: nameB, verified: true, scannedPayload: fromB.payload }));
    expect(verified.verified).toBe(true);
    expect(value(await a.invoke('safety.get', { contact: nameB })).verified).toBe(true);
  });

  it('holds sending when a contact\'s identity key changes (bundle or initial message) until acknowledged', async () => {
    const sodium = await loadSodium();
    const relay = await startTestRelay();
    cleanups.push(() => relay.close());
    const b = await core();
    const [nameB, nameM] = [freshUsername('b'), freshUsername('m')];
    value(await b.invoke('profile.create', { username: nameB, passphrase: PASSPHRASE, relayUrl: relay.url }));
    const first = IdentityKeyPair.generate(sodium);
    const registered = await WireClient.registered(relay.url, asWire(nameM, first));
    await registered.close();
    value(await b.invoke('contacts.add', { username: nameM }));
    const before = value(await b.invoke('safety.get', { contact: nameM }));
    value(await b.invoke('safety.markVerified', { contact: nameM, verified: true }));

    // The relay now serves other keys for nameM: the prekey bundle reveals it and the message waits.
    const second = IdentityKeyPair.generate(sodium);
    rebindOnRelay(relay, nameM, second);
    const client = await publishingClient(relay, nameM, second);
    const changed = nextUpdate(b, nameM);
    const held = value(await b.invoke('messages.send', { contact: nameM, text: 'held until acknowledged' }));
    expect((await changed).identityChanged).toBe(true);
    expect(value(await b.invoke('messages.list', { contact: nameM })).find((m) => m.id === held.id)?.status).toBe('pending');
    expect(code(await b.invoke('messages.send', { contact: nameM, text: 'refused' }))).toBe('IDENTITY_CHANGED');
    const after = value(await b.invoke('safety.get', { contact: nameM }));
    expect(after).toMatchObject({ identityChanged: true, verified: false });
    expect(after.digits).not.toBe(before.digits);

    const sent = new Promise<void>((resolve) => {
      const stop = b.on('message.updated', (message) => {
        if (message.id !== held.id || message.status !== 'sent') return;
        stop();
        resolve();
      });
    });
    expect(value(await b.invoke('contacts.acknowledgeIdentity', { contact: nameM })).identityChanged).toBe(false);
    await sent;
    await client.close();

    // Again, and this time the new key shows up in an initial message to B.
    const third = IdentityKeyPair.generate(sodium);
    rebindOnRelay(relay, nameM, third);
    const thirdClient = await publishingClient(relay, nameM, third);
    const fetched = await thirdClient.request({ name: 'FETCH_PREKEYS', username: nameB });
    if (fetched.name !== 'PREKEY_BUNDLE') throw new Error(`expected PREKEY_BUNDLE, got ${fetched.name}`);
    const sender = new RawSessionSender(sodium, third, prekeyBundleFromFrame(fetched));
    const id = toHex(randomBytes(16));
    const changedAgain = nextUpdate(b, nameM);
    const arrived = new Promise<string>((resolve) => {
      const stop = b.on('message.added', (message) => {
        if (message.id !== id) return;
        stop();
        resolve(message.text);
      });
    });
    await expectOk(thirdClient.request({ name: 'SEND', to: nameB, messageId: Uint8Array.from(Buffer.from(id, 'hex')), envelope: sender.envelope({ v: 2, id, from: nameM, to: nameB, sentAt: Date.now(), text: 'new key, who dis' }) }));
    expect(await arrived).toBe('new key, who dis');
    expect((await changedAgain).identityChanged).toBe(true);
    expect(code(await b.invoke('messages.send', { contact: nameM, text: 'refused again' }))).toBe('IDENTITY_CHANGED');
  });
});
