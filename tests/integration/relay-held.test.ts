import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import Database from 'better-sqlite3-multiple-ciphers';
import { describe, expect, it, vi } from 'vitest';
import { encodeMessageIds } from '../../relay/protocol/index.js';
import { DATABASE_FILE } from '../../relay/src/store/sqlite.js';
import type { TestRelay } from '../support/relay.js';
import { WireClient, createIdentity, expectOk, type TestIdentity } from '../support/wire-client.js';
import { useRelayHarness } from '../support/relay-harness.js';

const { relay, registered, restart } = useRelayHarness();

const messageId = (): Uint8Array => new Uint8Array(randomBytes(16));

async function people(r: TestRelay): Promise<{ alice: TestIdentity; bob: TestIdentity }> {
  const [alice, bob] = await Promise.all([createIdentity('alice'), createIdentity('bob')]);
  for (const identity of [alice, bob]) await (await WireClient.registered(r.url, identity)).close();
  return { alice, bob };
}

/** What the relay has written, read through a connection of the test's own (committed rows only). */
function written(r: TestRelay, id: Uint8Array): { queued: number; delivered: number } {
  const db = new Database(join(r.dataDir, DATABASE_FILE), { readonly: true });
  try {
    return {
      queued: db.prepare<[Uint8Array], number>('SELECT count(*) FROM queue WHERE message_id = ?').pluck().get(id) ?? 0,
      delivered: db.prepare<[Uint8Array], number>('SELECT count(*) FROM delivered_log WHERE message_id = ?').pluck().get(id) ?? 0,
    };
  } finally {
    db.close();
  }
}

/** A relay with this holdMs, alice connected to send and bob connected (his queue drained) to receive. */
async function onlinePair(holdMs: number): Promise<{ r: TestRelay; sender: WireClient; recipient: WireClient; alice: TestIdentity; bob: TestIdentity }> {
  const r = await relay({ holdMs });
  const { alice, bob } = await people(r);
  const sender = await registered(r.url, alice);
  const recipient = await registered(r.url, bob);
  await recipient.next('DRAINED');
  return { r, sender, recipient, alice, bob };
}

describe('envelopes held for an online recipient', () => {
  it('pushes at once; acked within holdMs, the envelope is never written, only remembered, and the OK follows the ACK', async () => {
    // A long hold: the commit can only come from the ACK's side, never from the timer, within this test.
    const { r, sender, recipient, alice, bob } = await onlinePair(1_000);
    const id = messageId();
    let okBeforeAck = false;
    let acked = false;
    const reply = sender.request({ name: 'SEND', to: 'bob', messageId: id, envelope: Uint8Array.of(7) }).then((frame) => {
      okBeforeAck = !acked;
      return frame;
    });
    expect(await recipient.next('DELIVER')).toMatchObject({ messageId: id });
    expect(written(r, id)).toEqual({ queued: 0, delivered: 0 });
    acked = true;
    recipient.post({ name: 'ACK', messageId: id });
    await expectOk(reply);
    expect(okBeforeAck).toBe(false);
    expect(written(r, id).queued).toBe(0);

    // A late retry of the delivered envelope is dropped: OK, and nothing pushed again.
    await expectOk(sender.request({ name: 'SEND', to: 'bob', messageId: id, envelope: Uint8Array.of(7) }));
    await recipient.request({ name: 'LOOKUP', username: 'bob' });
    expect(recipient.unread('DELIVER')).toBe(0);

    // Delivered ids are written in batches; a graceful restart writes them, and the retry is still dropped after it.
    const next = await restart(r);
    expect(written(next, id)).toEqual({ queued: 0, delivered: 1 });
    const retrier = await registered(next.url, alice);
    const bobAgain = await registered(next.url, bob);
    await bobAgain.next('DRAINED');
    await expectOk(retrier.request({ name: 'SEND', to: 'bob', messageId: id, envelope: Uint8Array.of(7) }));
    await bobAgain.request({ name: 'LOOKUP', username: 'bob' });
    expect(bobAgain.unread('DELIVER')).toBe(0);
  });

  it('writes the delivered ids it remembers within moments, without a restart', async () => {
    const { r, sender, recipient } = await onlinePair(1_000);
    const id = messageId();
    const reply = sender.request({ name: 'SEND', to: 'bob', messageId: id, envelope: Uint8Array.of(6) });
    await recipient.next('DELIVER');
    recipient.post({ name: 'ACK', messageId: id });
    await expectOk(reply);
    await vi.waitFor(() => expect(written(r, id)).toEqual({ queued: 0, delivered: 1 }), { timeout: 5_000 });
  });

  it('writes an envelope not acked within holdMs to the queue, then OKs it; a recipient that drops it gets it again', async () => {
    const { r, sender, recipient, bob } = await onlinePair(5);
    const id = messageId();
    const reply = sender.request({ name: 'SEND', to: 'bob', messageId: id, envelope: Uint8Array.of(8) });
    expect(await recipient.next('DELIVER')).toMatchObject({ messageId: id });
    await expectOk(reply);
    expect(written(r, id)).toEqual({ queued: 1, delivered: 0 });
    await recipient.close();

    const again = await registered(r.url, bob);
    expect(await again.next('DELIVER')).toMatchObject({ messageId: id });
    expect(await again.next('DRAINED')).toMatchObject({ count: 1 });
    again.post({ name: 'ACK', messageId: id });
    await again.request({ name: 'LOOKUP', username: 'bob' });
    expect(written(r, id).queued).toBe(0);
  });

  it('answers a retry of a held envelope with one more OK and pushes it only once', async () => {
    const { sender, recipient } = await onlinePair(1_000);
    const id = messageId();
    const first = sender.request({ name: 'SEND', to: 'bob', messageId: id, envelope: Uint8Array.of(9) });
    await recipient.next('DELIVER');
    const retry = sender.request({ name: 'SEND', to: 'bob', messageId: id, envelope: Uint8Array.of(9) });
    recipient.post({ name: 'ACK', messageId: id });
    await Promise.all([expectOk(first), expectOk(retry)]);
    await recipient.request({ name: 'LOOKUP', username: 'bob' });
    expect(recipient.unread('DELIVER')).toBe(0);
  });

  it("answers the SENDs one commit settles in one OKS frame, after the turn's earlier frames", async () => {
    const { sender, recipient } = await onlinePair(1_000);
    const ids = [messageId(), messageId(), messageId()];
    const oks = ids.map((id) => sender.request({ name: 'SEND', to: 'bob', messageId: id, envelope: Uint8Array.of(1) }));
    for (const id of ids) expect(await recipient.next('DELIVER')).toMatchObject({ messageId: id });
    recipient.post({ name: 'ACKS', messageIds: encodeMessageIds(ids) });
    for (const ok of oks) await expectOk(ok);
    expect(sender.received.filter((name) => name !== 'CHALLENGE')).toEqual(['OK', 'DRAINED', 'OKS']);
  });

  it('stores what it holds when it shuts down, so a restart loses nothing that was pushed and not acked', async () => {
    const { r, sender, recipient, bob } = await onlinePair(1_000);
    const ids = [messageId(), messageId(), messageId()];
    const replies = ids.map((id) => sender.request({ name: 'SEND', to: 'bob', messageId: id, envelope: Uint8Array.of(1, 2, 3) }));
    for (const id of ids) expect(await recipient.next('DELIVER')).toMatchObject({ messageId: id });
    // The graceful stop writes the held envelopes and only then lets the OKs go.
    const next = await restart(r);
    for (const reply of replies) await expectOk(reply);
    const again = await registered(next.url, bob);
    for (const id of ids) expect(await again.next('DELIVER')).toMatchObject({ messageId: id });
    expect(await again.next('DRAINED')).toMatchObject({ count: ids.length });
  });

  it('with holdMs 0 writes every envelope before pushing it', async () => {
    const { r, sender, recipient } = await onlinePair(0);
    const id = messageId();
    await expectOk(sender.request({ name: 'SEND', to: 'bob', messageId: id, envelope: Uint8Array.of(4) }));
    await recipient.next('DELIVER');
    expect(written(r, id)).toEqual({ queued: 1, delivered: 0 });
  });
});

describe('the memory of delivered ids', () => {
  it('drops a retry within deliveredMemoryMs, and delivers one after it again (the client drops that by id)', async () => {
    let clock = 1_000_000;
    const r = await relay({ holdMs: 1_000, deliveredMemoryMs: 60_000, now: () => clock });
    const { alice, bob } = await people(r);
    const sender = await registered(r.url, alice);
    const recipient = await registered(r.url, bob);
    await recipient.next('DRAINED');
    const id = messageId();
    const send = (): Promise<unknown> => expectOk(sender.request({ name: 'SEND', to: 'bob', messageId: id, envelope: Uint8Array.of(7) }));

    const first = send();
    await recipient.next('DELIVER');
    recipient.post({ name: 'ACK', messageId: id });
    await first;

    clock += 59_999;
    await r.purgeExpired();
    await send();
    await recipient.request({ name: 'LOOKUP', username: 'bob' });
    expect(recipient.unread('DELIVER')).toBe(0);

    clock += 2;
    await r.purgeExpired();
    const retry = send();
    expect(await recipient.next('DELIVER')).toMatchObject({ messageId: id });
    recipient.post({ name: 'ACK', messageId: id });
    await retry;
  });
});
