import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { useCleanups } from '../support/cleanups.js';
import { freshUsername, nextEvent, openTestCore } from '../support/cores.js';
import { startTestRelay } from '../support/relay.js';
import { code, value } from '../support/result.js';
import { WireClient, createIdentity } from '../support/wire-client.js';

const PASSPHRASE = 'a long enough passphrase';

const cleanups = useCleanups();

describe('the app under the relay limits', () => {
  it("adding a contact past the relay's lookup budget fails with RELAY_RATE_LIMITED and adds nothing", async () => {
    const relay = await startTestRelay({ rateLimits: { lookups: { points: 1, durationMs: 60_000 } } });
    cleanups.push(() => relay.close());
    const friend = freshUsername('friend');
    await (await WireClient.registered(relay.url, await createIdentity(friend))).close();
    const core = await openTestCore(cleanups, await cleanups.tempDir('parley-limits-'));
    value(await core.invoke('profile.create', { username: freshUsername('me'), passphrase: PASSPHRASE, relayUrl: relay.url }));

    expect(value(await core.invoke('contacts.add', { username: friend })).username).toBe(friend);
    // Refused before the relay looks: a name that does not exist gets the same answer.
    expect(code(await core.invoke('contacts.add', { username: freshUsername('other') }))).toBe('RELAY_RATE_LIMITED');
    expect(value(await core.invoke('contacts.list', {})).map((contact) => contact.username)).toEqual([friend]);
  });

  it('a message the relay has no room for stays pending, and goes by itself once the relay has room again', async () => {
    const relay = await startTestRelay({ maxDatabaseBytes: 1024 * 1024, maxQueuedBytesPerUser: 1024 ** 3, rateLimits: { messages: { points: 10_000, durationMs: 1_000 } } });
    cleanups.push(() => relay.close());
    const [nameA, nameB] = [freshUsername('a'), freshUsername('b')];
    const [dirA, dirB] = [await cleanups.tempDir('parley-full-a-'), await cleanups.tempDir('parley-full-b-')];
    const a = await openTestCore(cleanups, dirA);
    value(await a.invoke('profile.create', { username: nameA, passphrase: PASSPHRASE, relayUrl: relay.url }));
    const b = await openTestCore(cleanups, dirB);
    value(await b.invoke('profile.create', { username: nameB, passphrase: PASSPHRASE, relayUrl: relay.url }));
    value(await a.invoke('contacts.add', { username: nameB }));
    await b.close();

    // Someone fills B's queue (with envelopes B cannot open) until the relay's database is at its cap, down to the
    // room left in its last pages.
    const filler = await WireClient.registered(relay.url, await createIdentity(freshUsername('filler')));
    cleanups.push(() => filler.close());
    const fill = (bytes: number): Promise<string> =>
      filler.request({ name: 'SEND', to: nameB, messageId: randomBytes(16), envelope: randomBytes(bytes) }).then((reply) => (reply.name === 'ERROR' ? reply.code : reply.name));
    for (const bytes of [16 * 1024, 1024, 64]) {
      let reply = await fill(bytes);
      while (reply === 'OK') reply = await fill(bytes);
      expect(reply).toBe('STORAGE_FULL');
    }

    const delivered = nextEvent(a, 'message.updated', (message) => message.status === 'delivered');
    const message = value(await a.invoke('messages.send', { contact: nameB, text: 'sent while the relay was full' }));
    expect(message.status).toBe('pending');

    // B comes online: it drops what it cannot open and acks it, which frees the relay's pages; A's outbox tries again.
    const b2 = await openTestCore(cleanups, dirB);
    value(await b2.invoke('profile.unlock', { passphrase: PASSPHRASE }));
    expect((await delivered).id).toBe(message.id);
    expect(value(await b2.invoke('messages.list', { contact: nameA })).map((m) => m.text)).toEqual(['sent while the relay was full']);
  });
});
