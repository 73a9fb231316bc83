import path from 'node:path';
import Database from 'better-sqlite3-multiple-ciphers';
import { describe, expect, it } from 'vitest';
import { toHex } from '../../app/core/crypto/bytes.js';
import { sealEnvelope } from '../../app/core/crypto/envelope.js';
import { IdentityKeyPair } from '../../app/core/crypto/identity.js';
import { deriveSubkey } from '../../app/core/crypto/kdf.js';
import { randomBytes } from '../../app/core/crypto/random.js';
import type { SessionPayload } from '../../app/core/crypto/session-envelope.js';
import { loadSodium } from '../../app/core/crypto/sodium.js';
import type { Core } from '../../app/core/index.js';
import { PROFILE_FILES } from '../../app/core/services/account.js';
import { openDatabase } from '../../app/core/store/db.js';
import { PrekeysRepository } from '../../app/core/store/prekeys-repo.js';
import { openWithPassphrase } from '../../app/core/vault/keyring.js';
import { readVaultFile } from '../../app/core/vault/vault-file.js';
import type { Message } from '../../app/shared/domain.js';
import { DATABASE_FILE } from '../../relay/src/store/sqlite.js';
import { startMitmProxy } from '../support/mitm-proxy.js';
import { prekeyBundleFromFrame } from '../../app/core/net/prekey-bundle.js';
import { RawSessionSender } from '../support/raw-sender.js';
import { startTestRelay } from '../support/relay.js';
import { WireClient } from '../support/wire-client.js';
import { useCleanups } from '../support/cleanups.js';
import { freshUsername, nextEvent, openTestCore } from '../support/cores.js';
import { value } from '../support/result.js';

const PASSPHRASE = 'a long enough passphrase';
const cleanups = useCleanups();

const { tempDir } = cleanups;

const core = (profileDir: string): Promise<Core> => openTestCore(cleanups, profileDir);

/** Resolves when `count` distinct messages matching `matches` have been added on `target`. */
function collect(target: Core, count: number, matches: (message: Message) => boolean): Promise<Message[]> {
  const seen = new Map<string, Message>();
  return new Promise((resolve) => {
    const unsubscribe = target.on('message.added', (message) => {
      if (!matches(message)) return;
      seen.set(message.id, message);
      if (seen.size < count) return;
      unsubscribe();
      resolve([...seen.values()]);
    });
  });
}

/** A conversation as both sides should agree on it: id, text and who wrote it. */
async function transcript(target: Core, contact: string, self: string): Promise<string[]> {
  const messages = value(await target.invoke('messages.list', { contact, limit: 500 }));
  return messages
    .filter((m) => m.kind === undefined)
    .map((m) => `${m.id} ${m.direction === 'out' ? self : contact}: ${m.text}`)
    .sort();
}

function relayOneTimeIds(dataDir: string, user: string): number[] {
  const db = new Database(path.join(dataDir, DATABASE_FILE), { readonly: true, fileMustExist: true });
  try {
    return db.prepare<[string], { key_id: number }>('SELECT key_id FROM one_time_prekeys WHERE username = ? ORDER BY key_id').all(user).map((row) => row.key_id);
  } finally {
    db.close();
  }
}

async function deviceOneTime(profileDir: string, ids: readonly number[]): Promise<boolean[]> {
  const sodium = await loadSodium();
  const vault = await readVaultFile(path.join(profileDir, PROFILE_FILES.vault));
  if (vault === undefined) throw new Error('no vault');
  const masterKey = openWithPassphrase(sodium, vault, PASSPHRASE);
  const db = openDatabase(path.join(profileDir, PROFILE_FILES.database), deriveSubkey(sodium, masterKey, 'database'));
  try {
    const repo = new PrekeysRepository(db);
    return ids.map((id) => repo.oneTime(id) !== undefined);
  } finally {
    db.close();
  }
}

describe('sessions between two cores through a relay, behind a proxy that reorders and duplicates', () => {
  it('ends with identical conversations on both sides, and the used one-time prekey is gone from relay and device', async () => {
    const relay = await startTestRelay();
    cleanups.push(() => relay.close());
    const proxy = await startMitmProxy(relay.url);
    cleanups.push(() => proxy.close());
    const [dirA, dirB] = [await tempDir('parley-sa-'), await tempDir('parley-sb-')];
    const [nameA, nameB] = [freshUsername('a'), freshUsername('b')];
    const a = await core(dirA);
    let b = await core(dirB);
    value(await a.invoke('profile.create', { username: nameA, passphrase: PASSPHRASE, relayUrl: proxy.url }));
    value(await b.invoke('profile.create', { username: nameB, passphrase: PASSPHRASE, relayUrl: proxy.url }));
    value(await a.invoke('contacts.add', { username: nameB }));
    const relayBefore = relayOneTimeIds(relay.dataDir, nameB);
    expect(relayBefore.length).toBeGreaterThan(10);

    // Round 1: A starts the session with a burst while B is online (pushed, swapped, duplicated).
    const round1 = collect(b, 6, (m) => m.contact === nameA);
    for (let i = 0; i < 6; i += 1) value(await a.invoke('messages.send', { contact: nameB, text: `a1-${i}` }));
    expect((await round1).every((m) => m.kind === undefined)).toBe(true);

    // The one-time prekey A's first message used left the relay when A fetched the bundle.
    const relayAfter = relayOneTimeIds(relay.dataDir, nameB);
    const used = relayBefore.filter((id) => !relayAfter.includes(id));
    expect(used).toHaveLength(1);

    // Round 2: both write at once (DH steps on both sides with messages in flight).
    const aGets = collect(a, 5, (m) => m.direction === 'in');
    const bGets = collect(b, 5, (m) => m.direction === 'in' && m.text.startsWith('a2-'));
    await Promise.all([
      (async () => {
        for (let i = 0; i < 5; i += 1) value(await b.invoke('messages.send', { contact: nameA, text: `b2-${i}` }));
      })(),
      (async () => {
        for (let i = 0; i < 5; i += 1) value(await a.invoke('messages.send', { contact: nameB, text: `a2-${i}` }));
      })(),
    ]);
    await Promise.all([aGets, bGets]);

    // Round 3: B offline; A's messages queue up and are drained (reordered, duplicated) on return.
    await b.close();
    for (let i = 0; i < 7; i += 1) value(await a.invoke('messages.send', { contact: nameB, text: `a3-${i}` }));
    b = await core(dirB);
    const round3 = collect(b, 7, (m) => m.text.startsWith('a3-'));
    value(await b.invoke('profile.unlock', { passphrase: PASSPHRASE }));
    await round3;
    await b.whenSynced();

    const fromA = await transcript(a, nameB, nameA);
    const fromB = await transcript(b, nameA, nameB);
    expect(fromA).toHaveLength(23);
    expect(fromB).toEqual(fromA);
    const everything = [...value(await a.invoke('messages.list', { contact: nameB, limit: 500 })), ...value(await b.invoke('messages.list', { contact: nameA, limit: 500 }))];
    expect(everything.filter((m) => m.kind === 'undecryptable')).toEqual([]);
    expect(proxy.stats.duplicatedSends).toBeGreaterThan(0);
    expect(proxy.stats.duplicatedDelivers).toBeGreaterThan(0);
    expect(proxy.stats.swappedDelivers).toBeGreaterThan(0);

    await b.close();
    const onDevice = await deviceOneTime(dirB, [...used, ...relayAfter.slice(0, 3)]);
    expect(onDevice).toEqual([false, true, true, true]);
  });

  it('converges when both sides start a session at the same time', async () => {
    const relay = await startTestRelay();
    cleanups.push(() => relay.close());
    const proxy = await startMitmProxy(relay.url);
    cleanups.push(() => proxy.close());
    const [a, b] = [await core(await tempDir('parley-sa-')), await core(await tempDir('parley-sb-'))];
    const [nameA, nameB] = [freshUsername('a'), freshUsername('b')];
    value(await a.invoke('profile.create', { username: nameA, passphrase: PASSPHRASE, relayUrl: proxy.url }));
    value(await b.invoke('profile.create', { username: nameB, passphrase: PASSPHRASE, relayUrl: proxy.url }));
    value(await a.invoke('contacts.add', { username: nameB }));
    value(await b.invoke('contacts.add', { username: nameA }));

    const exchange = async (round: number, count: number): Promise<void> => {
      const aGets = collect(a, count, (m) => m.text.startsWith(`b${round}-`));
      const bGets = collect(b, count, (m) => m.text.startsWith(`a${round}-`));
      await Promise.all([
        (async () => {
          for (let i = 0; i < count; i += 1) value(await a.invoke('messages.send', { contact: nameB, text: `a${round}-${i}` }));
        })(),
        (async () => {
          for (let i = 0; i < count; i += 1) value(await b.invoke('messages.send', { contact: nameA, text: `b${round}-${i}` }));
        })(),
      ]);
      await Promise.all([aGets, bGets]);
    };
    // Both fetch a bundle and write first: two sessions cross on the wire.
    await exchange(1, 3);
    await exchange(2, 3);
    await exchange(3, 2);

    const fromA = await transcript(a, nameB, nameA);
    expect(fromA).toHaveLength(16);
    expect(await transcript(b, nameA, nameB)).toEqual(fromA);
    const everything = [...value(await a.invoke('messages.list', { contact: nameB, limit: 500 })), ...value(await b.invoke('messages.list', { contact: nameA, limit: 500 }))];
    expect(everything.filter((m) => m.kind === 'undecryptable')).toEqual([]);
  });

  it('records forged, truncated and replayed envelopes from a contact as undecryptable and keeps the session usable', async () => {
    const relay = await startTestRelay();
    cleanups.push(() => relay.close());
    const sodium = await loadSodium();
    const dirB = await tempDir('parley-sb-');
    const [nameB, nameM] = [freshUsername('b'), freshUsername('m')];
    const b = await core(dirB);
    value(await b.invoke('profile.create', { username: nameB, passphrase: PASSPHRASE, relayUrl: relay.url }));

    const mallory = IdentityKeyPair.generate(sodium);
    const keys = mallory.toStored();
    const wire = await WireClient.registered(relay.url, { username: nameM, identityKey: keys.identityKey, identitySecret: keys.identitySecret, agreementKey: keys.agreementKey, agreementSig: keys.agreementSig });
    cleanups.push(() => wire.close());
    const fetched = await wire.request({ name: 'FETCH_PREKEYS', username: nameB });
    if (fetched.name !== 'PREKEY_BUNDLE') throw new Error(`expected PREKEY_BUNDLE, got ${fetched.name}`);
    const bundle = prekeyBundleFromFrame(fetched);
    const sender = new RawSessionSender(sodium, mallory, bundle);
    const payload = (text: string): SessionPayload => ({ v: 2, id: toHex(randomBytes(16)), from: nameM, to: nameB, sentAt: Date.now(), text });
    const send = async (id: string, envelope: Uint8Array): Promise<void> => {
      const reply = await wire.request({ name: 'SEND', to: nameB, messageId: Uint8Array.from(Buffer.from(id, 'hex')), envelope });
      expect(reply.name).toBe('OK');
    };

    const first = payload('first');
    const firstEnvelope = sender.envelope(first);
    const gotFirst = nextEvent(b, 'message.added', (m) => m.id === first.id);
    await send(first.id, firstEnvelope);
    expect((await gotFirst).text).toBe('first');

    const bad = collect(b, 3, (m) => m.kind === 'undecryptable');
    // Replayed: the same envelope under a new message id.
    await send(toHex(randomBytes(16)), firstEnvelope);
    // Truncated: a ratchet message cut short inside a well-formed seal.
    await send(toHex(randomBytes(16)), sender.seal(randomBytes(20)));
    // Forged: a flipped bit in the ciphertext.
    const forged = payload('forged');
    await send(forged.id, sender.seal(flipLastByte(sender.next(forged))));
    const genuine = payload('still works');
    const genuineEnvelope = sender.envelope(genuine);
    const placeholders = await bad;
    expect(placeholders.map((m) => m.errorCode).sort()).toEqual(['DECRYPT_DUPLICATE', 'DECRYPT_FAILED', 'DECRYPT_MALFORMED']);
    expect(placeholders.every((m) => m.contact === nameM && m.text === '')).toBe(true);

    const gotGenuine = nextEvent(b, 'message.added', (m) => m.id === genuine.id);
    await send(genuine.id, genuineEnvelope);
    expect((await gotGenuine).text).toBe('still works');
  });

  it('still delivers a v1 envelope from a contact, as queued on the relay before the move to sessions', async () => {
    const relay = await startTestRelay();
    cleanups.push(() => relay.close());
    const sodium = await loadSodium();
    const b = await core(await tempDir('parley-sb-'));
    const [nameB, nameM] = [freshUsername('b'), freshUsername('m')];
    value(await b.invoke('profile.create', { username: nameB, passphrase: PASSPHRASE, relayUrl: relay.url }));
    const old = IdentityKeyPair.generate(sodium);
    const keys = old.toStored();
    const wire = await WireClient.registered(relay.url, { username: nameM, identityKey: keys.identityKey, identitySecret: keys.identitySecret, agreementKey: keys.agreementKey, agreementSig: keys.agreementSig });
    cleanups.push(() => wire.close());
    value(await b.invoke('contacts.add', { username: nameM }));
    const user = await wire.request({ name: 'LOOKUP', username: nameB });
    if (user.name !== 'USER') throw new Error(`expected USER, got ${user.name}`);
    const id = toHex(randomBytes(16));
    const arrived = nextEvent(b, 'message.added', (m) => m.id === id);
    const envelope = sealEnvelope(sodium, old, user.agreementKey, { v: 1, id, from: nameM, to: nameB, sentAt: Date.now(), text: 'from before sessions' });
    expect((await wire.request({ name: 'SEND', to: nameB, messageId: Uint8Array.from(Buffer.from(id, 'hex')), envelope })).name).toBe('OK');
    expect(await arrived).toMatchObject({ text: 'from before sessions', contact: nameM, direction: 'in' });
  });
});

function flipLastByte(bytes: Uint8Array): Uint8Array {
  const out = Uint8Array.from(bytes);
  out[out.length - 1] = (out[out.length - 1] ?? 0) ^ 1;
  return out;
}
