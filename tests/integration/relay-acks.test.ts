import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CloseCode, MAX_ACKS_PER_FRAME, encodeMessageIds } from '../../relay/protocol/index.js';
import { useRelayHarness } from '../support/relay-harness.js';
import type { WireClient} from '../support/wire-client.js';
import { createIdentity, expectOk } from '../support/wire-client.js';

const { relay, restart, registered, authenticated } = useRelayHarness();

const messageId = (): Uint8Array => new Uint8Array(randomBytes(16));
const body = (text: string): Uint8Array => new TextEncoder().encode(text);

/** The relay handles a socket's frames in order, so a reply to a later request proves the ACKS before it was applied. */
async function barrier(client: WireClient): Promise<void> {
  await client.request({ name: 'LOOKUP', username: 'barrier-nobody' });
}

describe('relay: ACKS', () => {
  it('acknowledges stored and held envelopes in one frame, each as an ACK would, receipts included', async () => {
    const r = await relay({ holdMs: 1_000 });
    const [alice, bob] = await Promise.all([createIdentity('alice'), createIdentity('bob')]);
    const sender = await registered(r.url, alice);
    const offline = await registered(r.url, bob);
    await offline.close();
    const stored = [messageId(), messageId()];
    for (const id of stored) await expectOk(sender.request({ name: 'SEND', to: 'bob', messageId: id, envelope: body('stored') }));
    expect(r.queueDepth('bob')).toBe(2);

    const recipient = await authenticated(r.url, bob);
    for (const id of stored) expect(await recipient.next('DELIVER')).toMatchObject({ messageId: id });
    expect(await recipient.next('DRAINED')).toMatchObject({ count: 2 });
    // Pushed to an online recipient and held (for a second or two here): its OK waits for the commit after the ACK.
    const held = messageId();
    const heldOk = sender.request({ name: 'SEND_WITH_RECEIPT', to: 'bob', messageId: held, envelope: body('held'), ttlMs: 0 });
    expect(await recipient.next('DELIVER')).toMatchObject({ messageId: held });

    recipient.post({ name: 'ACKS', messageIds: encodeMessageIds([...stored, held]) });
    await barrier(recipient);
    expect(r.queueDepth('bob')).toBe(0);
    expect(await sender.next('RECEIPT')).toMatchObject({ messageId: held });
    // A restart writes what it holds first: the acked one only as delivered, so nothing comes back after it.
    const restarted = await restart(r);
    await expect(heldOk).resolves.toMatchObject({ name: 'OK' });
    const again = await authenticated(restarted.url, bob);
    expect(await again.next('DRAINED')).toMatchObject({ count: 0 });
  });

  it('takes MAX_ACKS_PER_FRAME ids (unknown ones are ignored, as ACK ignores them)', async () => {
    const r = await relay();
    const bob = await createIdentity('bob');
    const recipient = await registered(r.url, bob);
    recipient.post({ name: 'ACKS', messageIds: encodeMessageIds(Array.from({ length: MAX_ACKS_PER_FRAME }, messageId)) });
    await barrier(recipient);
  });

  it('refuses an ACKS with no ids, part of an id or too many, closing only that connection; nothing queued is lost', async () => {
    const r = await relay();
    const [alice, bob] = await Promise.all([createIdentity('alice'), createIdentity('bob')]);
    const sender = await registered(r.url, alice);
    const offline = await registered(r.url, bob);
    await offline.close();
    await expectOk(sender.request({ name: 'SEND', to: 'bob', messageId: messageId(), envelope: body('kept') }));

    for (const length of [0, 17, 16 * (MAX_ACKS_PER_FRAME + 1)]) {
      const recipient = await authenticated(r.url, bob);
      await recipient.next('DRAINED');
      recipient.post({ name: 'ACKS', messageIds: new Uint8Array(length) });
      expect(await recipient.next('ERROR')).toMatchObject({ code: 'PROTO_MALFORMED_FRAME' });
      expect(await recipient.close()).toMatchObject({ code: CloseCode.PROTOCOL_ERROR });
      expect(r.queueDepth('bob')).toBe(1);
    }
    await barrier(sender);
  });
});
