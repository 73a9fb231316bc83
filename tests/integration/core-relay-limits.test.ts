import { describe, expect, it } from 'vitest';
import { useCleanups } from '../support/cleanups.js';
import { freshUsername, openTestCore } from '../support/cores.js';
import { startTestRelay } from '../support/relay.js';
import { code, value } from '../support/result.js';
import { WireClient, createIdentity } from '../support/wire-client.js';

const cleanups = useCleanups();

describe('the app under the relay limits', () => {
  it("adding a contact past the relay's lookup budget fails with RELAY_RATE_LIMITED and adds nothing", async () => {
    const relay = await startTestRelay({ rateLimits: { lookups: { points: 1, durationMs: 60_000 } } });
    cleanups.push(() => relay.close());
    const friend = freshUsername('friend');
    await (await WireClient.registered(relay.url, await createIdentity(friend))).close();
    const core = await openTestCore(cleanups, await cleanups.tempDir('parley-limits-'));
    value(await core.invoke('profile.create', { username: freshUsername('me'), passphrase: 'a long enough passphrase', relayUrl: relay.url }));

    expect(value(await core.invoke('contacts.add', { username: friend })).username).toBe(friend);
    // Refused before the relay looks: a name that does not exist gets the same answer.
    expect(code(await core.invoke('contacts.add', { username: freshUsername('other') }))).toBe('RELAY_RATE_LIMITED');
    expect(value(await core.invoke('contacts.list', {})).map((contact) => contact.username)).toEqual([friend]);
  });
});
