import { cp, readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { toHex } from '../../app/core/crypto/bytes.js';
import { randomBytes } from '../../app/core/crypto/random.js';
import { openCore, type Core } from '../../app/core/index.js';
import { startRelay, type RelayHandle } from '../../relay/src/server.js';
import { IdentityKeyPair } from '../../app/core/crypto/identity.js';
import type { SessionPayload } from '../../app/core/crypto/session-envelope.js';
import { loadSodium } from '../../app/core/crypto/sodium.js';
import { startTestRelay, type TestRelay } from '../support/relay.js';
import { WireClient, type TestIdentity } from '../support/wire-client.js';
import { prekeyBundleFromFrame } from '../../app/core/net/prekey-bundle.js';
import { RawSessionSender } from '../support/raw-sender.js';
import { useCleanups } from '../support/cleanups.js';
import { freshUsername, nextEvent, openTestCore } from '../support/cores.js';
import { code, value } from '../support/result.js';

const PASSPHRASE = 'a long enough passphrase';

const cleanups = useCleanups();

const { tempDir } = cleanups;

const core = (profileDir: string): Promise<Core> => openTestCore(cleanups, profileDir);

async function relayForTest(): Promise<{ current: TestRelay }> {
  const holder = { current: await startTestRelay() };
  cleanups.push(() => holder.current.close());
  return holder;
}

/** Bounded polling, for relay state that has no event (the queue shrinking after an ACK). */
async function eventually(check: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((entry) => entry.isFile()).map((entry) => path.join(entry.parentPath, entry.name));
}

/** Every file under the folders, read as bytes, that contains any of the canaries. */
async function leaks(dirs: readonly string[], canaries: readonly string[]): Promise<string[]> {
  const found: string[] = [];
  for (const dir of dirs) {
    for (const file of await filesUnder(dir)) {
      const bytes = await readFile(file);
      for (const canary of canaries) if (bytes.includes(canary)) found.push(`${canary} in ${file}`);
    }
  }
  return found;
}

async function createProfile(target: Core, name: string, relayUrl: string): Promise<void> {
  value(await target.invoke('profile.create', { username: name, passphrase: PASSPHRASE, relayUrl }));
}

describe('two cores exchanging messages through a real relay', () => {
  it('delivers online and offline, survives a restart of the recipient, and leaves no plaintext on disk', async () => {
    const relay = await relayForTest();
    const [dirA, dirB] = [await tempDir('parley-a-'), await tempDir('parley-b-')];
    const [nameA, nameB] = [freshUsername('a'), freshUsername('b')];
    const a = await core(dirA);
    let b = await core(dirB);
    await createProfile(a, nameA, relay.current.url);
    await createProfile(b, nameB, relay.current.url);
    expect(value(await a.invoke('profile.status', {}))).toEqual({ state: 'unlocked', username: nameA, relayUrl: relay.current.url, recoveryKeyPending: true });

    const contactB = value(await a.invoke('contacts.add', { username: nameB }));
    expect(contactB.username).toBe(nameB);
    expect(contactB.identityKey).toMatch(/^[0-9a-f]{64}$/);
    expect(value(await a.invoke('contacts.add', { username: nameB }))).toEqual(contactB);
    expect(code(await a.invoke('contacts.add', { username: nameA }))).toBe('CONTACT_IS_SELF');
    expect(code(await a.invoke('contacts.add', { username: freshUsername('nobody') }))).toBe('CONTACT_UNKNOWN_USER');
    expect(code(await a.invoke('messages.send', { contact: freshUsername('stranger'), text: 'hello?' }))).toBe('CONTACT_NOT_FOUND');

    const texts = [`online canary ${toHex(randomBytes(8))}`, `offline canary ${toHex(randomBytes(8))}`, `reply canary ${toHex(randomBytes(8))}`];

    // 1. B online.
    const bGetsFirst = nextEvent(b, 'message.added', (m) => m.text === texts[0]);
    const bLearnsA = nextEvent(b, 'contact.added');
    const first = value(await a.invoke('messages.send', { contact: nameB, text: texts[0] ?? '' }));
    expect(first).toMatchObject({ contact: nameB, direction: 'out' });
    // B is online: its ACK can reach the relay before the relay's OK to A, so the receipt may already be in.
    expect(['sent', 'delivered']).toContain(first.status);
    expect(await bGetsFirst).toMatchObject({ id: first.id, contact: nameA, direction: 'in', status: 'received', sentAt: first.sentAt });
    expect((await bLearnsA).username).toBe(nameA);
    expect(value(await b.invoke('contacts.list', {})).map((c) => c.username)).toEqual([nameA]);

    // 2. B offline: the relay queues the envelope.
    await b.close();
    const second = value(await a.invoke('messages.send', { contact: nameB, text: texts[1] ?? '' }));
    expect(second.status).toBe('sent');
    expect(relay.current.queueDepth(nameB)).toBe(1);

    // 3. B comes back: a wrong passphrase changes nothing, the right one syncs the queue.
    b = await core(dirB);
    expect(value(await b.invoke('profile.status', {}))).toEqual({ state: 'locked' });
    expect(code(await b.invoke('profile.unlock', { passphrase: 'not the passphrase' }))).toBe('VAULT_WRONG_PASSPHRASE');
    expect(value(await b.invoke('profile.status', {}))).toEqual({ state: 'locked' });
    expect(value(await b.invoke('profile.unlock', { passphrase: PASSPHRASE }))).toEqual({ username: nameB, relayUrl: relay.current.url });
    await b.whenSynced();
    const inbox = value(await b.invoke('messages.list', { contact: nameA }));
    expect(inbox.map((m) => [m.id, m.text, m.direction])).toEqual([
      [first.id, texts[0], 'in'],
      [second.id, texts[1], 'in'],
    ]);
    await eventually(() => relay.current.queueDepth(nameB) === 0);

    // 4. B replies.
    const aGetsReply = nextEvent(a, 'message.added', (m) => m.direction === 'in');
    const reply = value(await b.invoke('messages.send', { contact: nameA, text: texts[2] ?? '' }));
    expect(['sent', 'delivered']).toContain(reply.status);
    expect(await aGetsReply).toMatchObject({ id: reply.id, text: texts[2], contact: nameB });
    // B acknowledged both before replying, and the relay sends receipts in order ahead of the reply: both delivered.
    expect(value(await a.invoke('messages.list', { contact: nameB })).map((m) => [m.text, m.direction, m.status])).toEqual([
      [texts[0], 'out', 'delivered'],
      [texts[1], 'out', 'delivered'],
      [texts[2], 'in', 'received'],
    ]);
    const page = value(await a.invoke('messages.list', { contact: nameB, limit: 2 }));
    expect(page.map((m) => m.text)).toEqual([texts[1], texts[2]]);
    expect(value(await a.invoke('messages.list', { contact: nameB, before: page[0]?.id, limit: 2 })).map((m) => m.text)).toEqual([texts[0]]);

    // 5. Nothing readable on disk: message texts nowhere, usernames nowhere in the profiles (WAL included),
    // nor in a backup the UI wrote into the profile's backups folder.
    // The relay is a directory of usernames, so it stores those; it never sees a message text.
    const backup = value(await a.invoke('backup.export', { passphrase: PASSPHRASE, backupPassphrase: 'seven lanterns over a quiet harbour' }));
    expect(await readdir(path.join(dirA, 'backups'))).toEqual([backup.fileName]);
    expect(await leaks([relay.current.dataDir, dirA, dirB], texts)).toEqual([]);
    expect(await leaks([dirA, dirB], [nameA, nameB])).toEqual([]);
    await Promise.all([a.close(), b.close()]);
    expect(await leaks([relay.current.dataDir, dirA, dirB], [...texts])).toEqual([]);
    expect(await leaks([dirA, dirB], [nameA, nameB])).toEqual([]);
  });

  it('reports connection changes and keeps a message pending while the relay is down, then delivers it', async () => {
    const dataDir = await tempDir('parley-relay-');
    let relay: RelayHandle = await startRelay({ dataDir, host: '127.0.0.1', port: 0 });
    cleanups.push(() => relay.close());
    const { port, url } = relay;
    const [a, b] = [await core(await tempDir('parley-a-')), await core(await tempDir('parley-b-'))];
    const [nameA, nameB] = [freshUsername('a'), freshUsername('b')];
    await createProfile(a, nameA, url);
    await createProfile(b, nameB, url);
    value(await a.invoke('contacts.add', { username: nameB }));

    const aOffline = nextEvent(a, 'connection.changed', (state) => state.state === 'offline');
    await relay.close();
    expect((await aOffline).error?.code).toBe('RELAY_UNREACHABLE');

    const text = `sent while down ${toHex(randomBytes(6))}`;
    const pending = value(await a.invoke('messages.send', { contact: nameB, text }));
    expect(pending.status).toBe('pending');
    expect(value(await a.invoke('messages.list', { contact: nameB }))[0]?.status).toBe('pending');

    // B is online, so the receipt may overtake the relay's OK: 'sent' is then skipped for 'delivered'.
    const aSent = nextEvent(a, 'message.updated', (m) => m.id === pending.id && m.status !== 'pending');
    const bGets = nextEvent(b, 'message.added', (m) => m.id === pending.id);
    relay = await startRelay({ dataDir, host: '127.0.0.1', port });
    await a.whenOnline(15_000);
    expect(value(await a.invoke('connection.status', {}))).toEqual({ state: 'online' });
    expect(['sent', 'delivered']).toContain((await aSent).status);
    expect((await bGets).text).toBe(text);
  });

  it('goes offline without reconnecting when the same account connects from another place', async () => {
    const relay = await relayForTest();
    const dir = await tempDir('parley-a-');
    const first = await openCore({ profileDir: dir });
    await createProfile(first, freshUsername('a'), relay.current.url);
    await first.close();
    const copy = await tempDir('parley-copy-');
    await cp(dir, copy, { recursive: true });

    const original = await core(dir);
    value(await original.invoke('profile.unlock', { passphrase: PASSPHRASE }));
    await original.whenOnline();
    const replaced = nextEvent(original, 'connection.changed', (state) => state.state === 'offline');
    const elsewhere = await core(copy);
    value(await elsewhere.invoke('profile.unlock', { passphrase: PASSPHRASE }));
    await elsewhere.whenOnline();

    expect((await replaced).error?.code).toBe('RELAY_SESSION_REPLACED');
    expect(value(await original.invoke('connection.status', {})).error?.code).toBe('RELAY_SESSION_REPLACED');
    expect(value(await elsewhere.invoke('connection.status', {})).state).toBe('online');
  });

  it('sends a burst over the relay\'s message rate limit in full, at the pace the relay allows', async () => {
    const relay = await startTestRelay({ rateLimits: { messages: { points: 3, durationMs: 400 } } });
    cleanups.push(() => relay.close());
    const [a, b] = [await core(await tempDir('parley-a-')), await core(await tempDir('parley-b-'))];
    const [nameA, nameB] = [freshUsername('a'), freshUsername('b')];
    await createProfile(a, nameA, relay.url);
    await createProfile(b, nameB, relay.url);
    value(await a.invoke('contacts.add', { username: nameB }));

    const texts = Array.from({ length: 8 }, (_, i) => `burst ${i}`);
    const received = new Set<string>();
    const allReceived = new Promise<void>((resolve) => {
      b.on('message.added', (m) => {
        received.add(m.text);
        if (texts.every((text) => received.has(text))) resolve();
      });
    });
    const sent = await Promise.all(texts.map((text) => a.invoke('messages.send', { contact: nameB, text })));
    for (const result of sent) expect(['sent', 'delivered']).toContain(value(result).status);
    await allReceived;
  });

  it('refuses a taken username and an unreachable relay, leaving no profile behind', async () => {
    const relay = await relayForTest();
    const taken = freshUsername('t');
    const first = await core(await tempDir('parley-a-'));
    await createProfile(first, taken, relay.current.url);

    const secondDir = await tempDir('parley-b-');
    const second = await core(secondDir);
    const clash = await second.invoke('profile.create', { username: taken, passphrase: PASSPHRASE, relayUrl: relay.current.url });
    expect(code(clash)).toBe('RELAY_USERNAME_TAKEN');
    expect(await readdir(secondDir)).toEqual([]);
    expect(value(await second.invoke('profile.status', {})).state).toBe('none');

    const down = await startTestRelay();
    await down.close();
    const unreachable = await second.invoke('profile.create', { username: freshUsername('c'), passphrase: PASSPHRASE, relayUrl: down.url });
    expect(code(unreachable)).toBe('RELAY_UNREACHABLE');
    expect(await readdir(secondDir)).toEqual([]);
    expect(value(await second.invoke('profile.status', {})).state).toBe('none');

    // The user can try again once the relay answers.
    value(await second.invoke('profile.create', { username: freshUsername('c'), passphrase: PASSPHRASE, relayUrl: relay.current.url }));
    expect(code(await second.invoke('profile.create', { username: freshUsername('d'), passphrase: PASSPHRASE, relayUrl: relay.current.url }))).toBe('VAULT_PROFILE_EXISTS');
  });

  it('acknowledges and drops envelopes that fail to open or verify, and adds a new sender after a lookup', async () => {
    const relay = await relayForTest();
    const sodium = await loadSodium();
    const [dirA, dirB] = [await tempDir('parley-a-'), await tempDir('parley-b-')];
    const [nameA, nameB, nameM] = [freshUsername('a'), freshUsername('b'), freshUsername('m')];
    const a = await core(dirA);
    let b = await core(dirB);
    await createProfile(a, nameA, relay.current.url);
    await createProfile(b, nameB, relay.current.url);
    value(await b.invoke('contacts.add', { username: nameA }));
    await b.close();

    const mallory = IdentityKeyPair.generate(sodium);
    const keys = mallory.toStored();
    const asWire: TestIdentity = { username: nameM, identityKey: keys.identityKey, identitySecret: keys.identitySecret, agreementKey: keys.agreementKey, agreementSig: keys.agreementSig };
    const wire = await WireClient.registered(relay.current.url, asWire);
    cleanups.push(() => wire.close());
    const fetched = await wire.request({ name: 'FETCH_PREKEYS', username: nameB });
    if (fetched.name !== 'PREKEY_BUNDLE') throw new Error(`expected PREKEY_BUNDLE, got ${fetched.name}`);
    const sender = new RawSessionSender(sodium, mallory, prekeyBundleFromFrame(fetched));

    const send = async (payload: SessionPayload, envelope = sender.envelope(payload)): Promise<void> => {
      const reply = await wire.request({ name: 'SEND', to: nameB, messageId: Uint8Array.from(Buffer.from(payload.id, 'hex')), envelope });
      expect(reply.name).toBe('OK');
    };
    const payload = (text: string, overrides: Partial<SessionPayload> = {}): SessionPayload => ({
      v: 2,
      id: toHex(randomBytes(16)),
      from: nameM,
      to: nameB,
      sentAt: Date.now(),
      text,
      ...overrides,
    });
    const forgedText = `forged ${toHex(randomBytes(6))}`;
    await send(payload('garbage'), randomBytes(300));
    await send(payload(forgedText, { from: nameA }));
    await send(payload(forgedText, { to: nameA }));
    await send({ ...payload(forgedText), id: toHex(randomBytes(16)) }, sender.envelope(payload(forgedText)));
    const genuine = payload(`hello from m ${toHex(randomBytes(6))}`);
    await send(genuine);
    expect(relay.current.queueDepth(nameB)).toBe(5);

    b = await core(dirB);
    value(await b.invoke('profile.unlock', { passphrase: PASSPHRASE }));
    await b.whenSynced();
    await eventually(() => relay.current.queueDepth(nameB) === 0);
    expect(value(await b.invoke('contacts.list', {})).map((c) => c.username).sort()).toEqual([nameA, nameM].sort());
    expect(value(await b.invoke('messages.list', { contact: nameA }))).toEqual([]);
    expect(value(await b.invoke('messages.list', { contact: nameM })).map((m) => [m.id, m.text])).toEqual([[genuine.id, genuine.text]]);
    expect(value(await b.invoke('connection.status', {})).state).toBe('online');
    await b.close();
    expect(await leaks([dirB], [forgedText, genuine.text, nameM])).toEqual([]);
  });
});

