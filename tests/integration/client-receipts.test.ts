import { describe, expect, it } from 'vitest';
import { toHex } from '../../app/core/crypto/bytes.js';
import { randomBytes } from '../../app/core/crypto/random.js';
import type { Core } from '../../app/core/index.js';
import { startTestRelay, type TestRelay } from '../support/relay.js';
import { useCleanups } from '../support/cleanups.js';
import { freshUsername, nextEvent, openTestCore } from '../support/cores.js';
import { value } from '../support/result.js';

const PASSPHRASE = 'a long enough passphrase';
const cleanups = useCleanups();

const core = (profileDir: string): Promise<Core> => openTestCore(cleanups, profileDir);

async function relay(): Promise<TestRelay> {
  const started = await startTestRelay();
  cleanups.push(() => started.close());
  return started;
}

/** Two profiles on one relay; A has B as a contact. */
async function pair(relayUrl: string): Promise<{ a: Core; b: Core; nameA: string; nameB: string; dirA: string; dirB: string }> {
  const [dirA, dirB] = [await cleanups.tempDir('parley-a-'), await cleanups.tempDir('parley-b-')];
  const [nameA, nameB] = [freshUsername('a'), freshUsername('b')];
  const [a, b] = [await core(dirA), await core(dirB)];
  value(await a.invoke('profile.create', { username: nameA, passphrase: PASSPHRASE, relayUrl }));
  value(await b.invoke('profile.create', { username: nameB, passphrase: PASSPHRASE, relayUrl }));
  value(await a.invoke('contacts.add', { username: nameB }));
  return { a, b, nameA, nameB, dirA, dirB };
}

const statusOf = async (target: Core, contact: string, id: string): Promise<string | undefined> =>
  value(await target.invoke('messages.list', { contact })).find((m) => m.id === id)?.status;

describe('delivery receipts', () => {
  it('marks a message delivered only after the online recipient stored and acknowledged it', async () => {
    const { url } = await relay();
    const { a, b, nameA, nameB } = await pair(url);
    const order: string[] = [];
    b.on('message.added', (m) => order.push(`b stored ${m.id}`));
    a.on('message.updated', (m) => order.push(`a ${m.status} ${m.id}`));

    const text = `receipt please ${toHex(randomBytes(4))}`;
    const delivered = nextEvent(a, 'message.updated', (m) => m.status === 'delivered');
    const sent = value(await a.invoke('messages.send', { contact: nameB, text }));
    expect(sent.status).toMatch(/^(sent|delivered)$/);
    expect(await delivered).toMatchObject({ id: sent.id, direction: 'out', status: 'delivered', text });

    // The receipt can only come from the recipient's ACK, which follows its storing the message.
    expect(order.indexOf(`b stored ${sent.id}`)).toBeGreaterThanOrEqual(0);
    expect(order.indexOf(`b stored ${sent.id}`)).toBeLessThan(order.indexOf(`a delivered ${sent.id}`));
    expect(order.filter((line) => line === `a sent ${sent.id}`).length).toBeLessThanOrEqual(1);
    expect(await statusOf(a, nameB, sent.id)).toBe('delivered');
    // The recipient's own copy is simply received.
    expect(await statusOf(b, nameA, sent.id)).toBe('received');
  });

  it('keeps a message sent while the recipient is offline, and marks it delivered once it connects', async () => {
    const { url } = await relay();
    const { a, b, nameB, dirB } = await pair(url);
    await b.close();

    const sent = value(await a.invoke('messages.send', { contact: nameB, text: 'waiting for you' }));
    expect(sent.status).toBe('sent');
    // Another full round trip through the relay: still no receipt, because nobody acknowledged.
    value(await a.invoke('messages.send', { contact: nameB, text: 'and another' }));
    await a.whenSynced();
    expect(await statusOf(a, nameB, sent.id)).toBe('sent');

    const delivered = nextEvent(a, 'message.updated', (m) => m.id === sent.id && m.status === 'delivered');
    const bAgain = await core(dirB);
    value(await bAgain.invoke('profile.unlock', { passphrase: PASSPHRASE }));
    await bAgain.whenSynced();
    expect((await delivered).status).toBe('delivered');
  });

  it('keeps the receipt for an offline sender and applies it when the sender reconnects', async () => {
    const { url } = await relay();
    const { a, b, nameA, nameB, dirA, dirB } = await pair(url);
    await b.close();
    const sent = value(await a.invoke('messages.send', { contact: nameB, text: 'read this later' }));
    expect(sent.status).toBe('sent');
    await a.close();

    const bAgain = await core(dirB);
    const bStored = nextEvent(bAgain, 'message.added', (m) => m.id === sent.id);
    value(await bAgain.invoke('profile.unlock', { passphrase: PASSPHRASE }));
    await bStored;
    await bAgain.whenSynced();
    expect(await statusOf(bAgain, nameA, sent.id)).toBe('received');

    // The relay sends waiting receipts before DRAINED: synced means applied.
    const aAgain = await core(dirA);
    value(await aAgain.invoke('profile.unlock', { passphrase: PASSPHRASE }));
    await aAgain.whenSynced();
    expect(await statusOf(aAgain, nameB, sent.id)).toBe('delivered');
  });
});
