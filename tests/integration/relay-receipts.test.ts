import { randomBytes } from 'node:crypto';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3-multiple-ciphers';
import { describe, expect, it } from 'vitest';
import { MAX_ENVELOPE_BYTES } from '../../relay/protocol/index.js';
import { RECEIPT_KEY_FILE } from '../../relay/src/receipts.js';
import { DATABASE_FILE } from '../../relay/src/store/sqlite.js';
import { metric } from '../support/metrics.js';
import type { TestRelay } from '../support/relay.js';
import { WireClient, createIdentity, expectOk, type TestIdentity } from '../support/wire-client.js';
import { useRelayHarness } from '../support/relay-harness.js';

const { relay, registered, connect } = useRelayHarness();

const login = registered;

const messageId = (): Uint8Array => new Uint8Array(randomBytes(16));

async function people(r: TestRelay): Promise<{ alice: TestIdentity; bob: TestIdentity }> {
  const [alice, bob] = await Promise.all([createIdentity('alice'), createIdentity('bob')]);
  for (const identity of [alice, bob]) await (await WireClient.registered(r.url, identity)).close();
  return { alice, bob };
}

describe('delivery receipts', () => {
  it('sends a RECEIPT to an online sender when the recipient acks, and resends it until the sender acks it', async () => {
    const r = await relay();
    const { alice, bob } = await people(r);
    const sender = await login(r.url, alice);
    const recipient = await login(r.url, bob);
    const id = messageId();
    await expectOk(sender.request({ name: 'SEND_WITH_RECEIPT', to: 'bob', messageId: id, envelope: Uint8Array.of(1), ttlMs: 0 }));
    expect(await recipient.next('DELIVER')).toMatchObject({ messageId: id });
    recipient.post({ name: 'ACK', messageId: id });
    const receipt = await sender.next('RECEIPT');
    expect(receipt.messageId).toEqual(id);
    expect(receipt.ackedAt).toBeGreaterThan(0);

    // Not acked yet: the next connection gets it again, before DRAINED.
    await sender.close();
    const again = await login(r.url, alice);
    expect(await again.next('RECEIPT')).toMatchObject({ messageId: id });
    expect(await again.next('DRAINED')).toMatchObject({ count: 0 });
    again.post({ name: 'ACK', messageId: id });
    await again.request({ name: 'LOOKUP', username: 'alice' });
    await again.close();
    const third = await login(r.url, alice);
    await third.next('DRAINED');
    expect(third.unread('RECEIPT')).toBe(0);
  });

  it("sends the receipt live to the sender's newer connection, after its older one was replaced and has gone", async () => {
    const r = await relay();
    const { alice, bob } = await people(r);
    const older = await login(r.url, alice);
    const id = messageId();
    await expectOk(older.request({ name: 'SEND_WITH_RECEIPT', to: 'bob', messageId: id, envelope: Uint8Array.of(1), ttlMs: 0 }));
    const newer = await login(r.url, alice);
    await older.closed;
    await newer.request({ name: 'LOOKUP', username: 'alice' });

    const recipient = await login(r.url, bob);
    expect(await recipient.next('DELIVER')).toMatchObject({ messageId: id });
    recipient.post({ name: 'ACK', messageId: id });
    expect(await newer.next('RECEIPT')).toMatchObject({ messageId: id });
  });

  it('keeps its receipt key readable by its owner alone', async () => {
    const r = await relay();
    expect(statSync(join(r.dataDir, RECEIPT_KEY_FILE)).mode & 0o777).toBe(0o600);
  });

  it('keeps a receipt for an offline sender and delivers it on their next connection', async () => {
    const r = await relay();
    const { alice, bob } = await people(r);
    const sender = await login(r.url, alice);
    const id = messageId();
    await expectOk(sender.request({ name: 'SEND_WITH_RECEIPT', to: 'bob', messageId: id, envelope: Uint8Array.of(1), ttlMs: 0 }));
    await sender.close();
    const recipient = await login(r.url, bob);
    await recipient.next('DELIVER');
    recipient.post({ name: 'ACK', messageId: id });
    await recipient.request({ name: 'LOOKUP', username: 'bob' });

    const back = await login(r.url, alice);
    expect(await back.next('RECEIPT')).toMatchObject({ messageId: id });
  });

  it('sends no receipt for a plain SEND, and stores no sender name, only a keyed hash until the ack', async () => {
    const r = await relay();
    const { alice, bob } = await people(r);
    const sender = await login(r.url, alice);
    const plain = messageId();
    const receipted = messageId();
    await expectOk(sender.request({ name: 'SEND', to: 'bob', messageId: plain, envelope: Uint8Array.of(1) }));
    await expectOk(sender.request({ name: 'SEND_WITH_RECEIPT', to: 'bob', messageId: receipted, envelope: Uint8Array.of(2), ttlMs: 0 }));

    const db = new Database(join(r.dataDir, DATABASE_FILE), { readonly: true });
    try {
      const boxes = db.prepare<[], { receipt_box: Buffer | null }>('SELECT receipt_box FROM queue ORDER BY seq').all();
      expect(boxes[0]?.receipt_box).toBeNull();
      expect(boxes[1]?.receipt_box).toHaveLength(16);
      expect(Buffer.from(boxes[1]?.receipt_box ?? []).toString('utf8')).not.toContain('alice');
    } finally {
      db.close();
    }

    const recipient = await login(r.url, bob);
    for (const id of [plain, receipted]) {
      await recipient.next('DELIVER');
      recipient.post({ name: 'ACK', messageId: id });
    }
    expect(await sender.next('RECEIPT')).toMatchObject({ messageId: receipted });
    await sender.request({ name: 'LOOKUP', username: 'alice' });
    expect(sender.unread('RECEIPT')).toBe(0);
  });
});

describe('duplicate message ids', () => {
  it('drops a retry of an already delivered and acked message id: OK to the sender, nothing delivered', async () => {
    const r = await relay();
    const { alice, bob } = await people(r);
    const sender = await login(r.url, alice);
    const recipient = await login(r.url, bob);
    const id = messageId();
    await expectOk(sender.request({ name: 'SEND', to: 'bob', messageId: id, envelope: Uint8Array.of(1) }));
    await recipient.next('DELIVER');
    recipient.post({ name: 'ACK', messageId: id });
    await recipient.request({ name: 'LOOKUP', username: 'bob' });

    await expectOk(sender.request({ name: 'SEND', to: 'bob', messageId: id, envelope: Uint8Array.of(1) }));
    expect(r.queueDepth('bob')).toBe(0);
    const other = messageId();
    await expectOk(sender.request({ name: 'SEND', to: 'bob', messageId: other, envelope: Uint8Array.of(2) }));
    expect(await recipient.next('DELIVER')).toMatchObject({ messageId: other });
  });

  it('sends a receipt that comes while its sender is still receiving its queue once, with the queue', async () => {
    // With half of maxBufferedBytes pending the drain waits for the socket; a sender that does not read holds it there.
    const r = await relay({ maxBufferedBytes: 512 * 1024, rateLimits: { messages: { points: 10_000, durationMs: 1_000 } } });
    const { alice, bob } = await people(r);
    const sender = await login(r.url, alice);
    const recipient = await login(r.url, bob);
    const filler = await login(r.url, await createIdentity('carol'));
    const id = messageId();
    await expectOk(sender.request({ name: 'SEND_WITH_RECEIPT', to: 'bob', messageId: id, envelope: Uint8Array.of(1), ttlMs: 0 }));
    expect(await recipient.next('DELIVER')).toMatchObject({ messageId: id });
    await sender.close();
    // More than the loopback TCP buffers (a few MiB) and that half take.
    for (let i = 0; i < 120; i++) await expectOk(filler.request({ name: 'SEND', to: 'alice', messageId: messageId(), envelope: new Uint8Array(MAX_ENVELOPE_BYTES) }));

    const deliversOut = (): Promise<number> => metric(r, 'parley_frames_out_total{type="DELIVER"}');
    const before = await deliversOut();
    const back = await connect(r.url);
    const authenticated = back.auth(alice);
    back.pause();
    // The drain starts in the turn that handles the AUTH and runs until it waits: once a DELIVER is out, it is waiting.
    while ((await deliversOut()) === before) continue;
    expect(await deliversOut()).toBeLessThan(before + 120);
    recipient.post({ name: 'ACK', messageId: id });
    // An OK follows the commit of the ACKs before it, and what that commit set off: the receipt has been filed and offered.
    await expectOk(recipient.request({ name: 'SEND', to: 'carol', messageId: messageId(), envelope: Uint8Array.of(2) }));

    back.resume();
    await expectOk(authenticated);
    expect(await back.next('DRAINED')).toMatchObject({ count: 120 });
    // A round trip: any receipt pushed before it has arrived by its answer.
    expect(await back.request({ name: 'LOOKUP', username: 'alice' })).toMatchObject({ name: 'USER' });
    expect(back.unread('RECEIPT')).toBe(1);
    expect(await back.next('RECEIPT')).toMatchObject({ messageId: id });
  });
});
