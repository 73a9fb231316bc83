import { afterEach, describe, expect, it } from 'vitest';
import { encodeOneTimePrekeys, type Frame } from '../../relay/protocol/index.js';
import type { RelayStore } from '../../relay/src/store/ports.js';
import { key, publishAll } from '../support/prekeys.js';
import { startTestRelay, type TestRelay } from '../support/relay.js';
import { WireClient, createIdentity, expectOk } from '../support/wire-client.js';

const relays: TestRelay[] = [];
const clients: WireClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.close()));
  for (const relay of relays.splice(0)) await relay.close();
});

/**
 * Stands between the relay and its store: counts the request handlers run inside a group commit, and holds back or
 * fails the flushes to the disk that make commits durable (run off the event loop), on the test's word.
 */
class Disk {
  private holding = false;
  private failing: Error | undefined;
  private readonly held: Array<() => void> = [];
  private inCommit = false;
  /** Request handlers that ran as a unit of a group commit. */
  handledInCommit = 0;
  /** Flushes the relay asked for. */
  syncs = 0;
  private appended: Array<() => void> = [];

  readonly wrap = (store: RelayStore): RelayStore => ({
    ...store,
    transaction: (work) =>
      store.transaction(() => {
        this.inCommit = true;
        try {
          work();
        } finally {
          this.inCommit = false;
        }
      }),
    atomically: (work) => {
      const result = store.atomically(work);
      if (this.inCommit) this.handledInCommit += 1;
      return result;
    },
    // A proxy: the queue is a class instance, whose methods a spread would lose.
    queue: new Proxy(store.queue, {
      get: (target, property) => {
        if (property === 'flushDelivered') {
          return () => {
            target.flushDelivered();
            for (const resolve of this.appended.splice(0)) resolve();
          };
        }
        const value: unknown = Reflect.get(target, property, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    }),
    syncCommitted: (done) => {
      this.syncs += 1;
      if (this.failing !== undefined) return done(this.failing);
      const flush = (): void => store.syncCommitted(done);
      if (this.holding) this.held.push(flush);
      else flush();
    },
  });

  /** Resolves once the relay next appends the delivered ids it remembers to its log. */
  nextAppend(): Promise<void> {
    return new Promise((resolve) => this.appended.push(resolve));
  }

  hold(): void {
    this.holding = true;
  }

  fail(error: Error): void {
    this.failing = error;
  }

  release(): void {
    this.holding = false;
    for (const flush of this.held.splice(0)) flush();
  }
}

/** Whether a promise has settled yet, without waiting for it. */
function watch(reply: Promise<unknown>): { readonly settled: () => boolean } {
  let settled = false;
  void reply.then(
    () => (settled = true),
    () => (settled = true),
  );
  return { settled: () => settled };
}

async function relayWith(disk: Disk, options: Parameters<typeof startTestRelay>[0] = {}): Promise<TestRelay> {
  const relay = await startTestRelay(options, { wrapStore: disk.wrap });
  relays.push(relay);
  return relay;
}

describe('replies to requests that write', () => {
  it('leave once a flush after the write is done: prekeys, a registration, a registration lock', async () => {
    const disk = new Disk();
    const relay = await relayWith(disk);
    const bob = await createIdentity('bob');
    const alice = await createIdentity('alice');
    const bobClient = await WireClient.registered(relay.url, bob);
    const aliceClient = await WireClient.registered(relay.url, alice);
    // A writer's connection reads nothing more until its reply: someone else asks the relay meanwhile.
    const observer = await WireClient.registered(relay.url, await createIdentity('dave'));
    clients.push(bobClient, aliceClient, observer);
    await publishAll(bobClient, bob);

    const writes: Array<[string, () => Promise<Frame>, (reply: Frame) => void]> = [
      [
        'publish',
        () => bobClient.request({ name: 'PUBLISH_ONE_TIME_PREKEYS', prekeys: encodeOneTimePrekeys([{ keyId: 40, publicKey: key(40) }]) }),
        (reply) => expect(reply.name).toBe('OK'),
      ],
      [
        'fetch',
        () => aliceClient.request({ name: 'FETCH_PREKEYS', username: 'bob' }),
        (reply) => expect(reply.name === 'PREKEY_BUNDLE' ? reply.pqPrekeyId : reply.name).toBe(21),
      ],
      ['lock', () => bobClient.request({ name: 'TOTP_SETUP' }), (reply) => expect(reply.name).toBe('TOTP_SECRET')],
      [
        'register',
        async () => {
          const carolClient = await WireClient.connect(relay.url);
          clients.push(carolClient);
          return carolClient.register(await createIdentity('carol'));
        },
        (reply) => expect(reply.name).toBe('OK'),
      ],
    ];
    for (const [what, send, check] of writes) {
      disk.hold();
      const handled = disk.handledInCommit;
      const reply = send();
      const replying = watch(reply);
      // The handler runs inside the next group commit, whose flush is then held.
      await expect.poll(() => disk.handledInCommit, { message: what }).toBe(handled + 1);
      // The relay goes on answering others meanwhile; the writer's reply waits.
      expect((await observer.request({ name: 'LOOKUP', username: 'bob' })).name).toBe('USER');
      expect(replying.settled(), what).toBe(false);
      disk.release();
      check(await reply);
    }
  });

  it('include the minute\'s purge: one that drops envelopes resolves once its flush is done, one that drops nothing at once', async () => {
    let time = 1_800_000_000_000;
    const disk = new Disk();
    const relay = await relayWith(disk, { now: () => time, maxTtlMs: 60_000 });
    await (await WireClient.registered(relay.url, await createIdentity('bob'))).close();
    const alice = await WireClient.registered(relay.url, await createIdentity('alice'));
    clients.push(alice);
    const sent = await alice.request({ name: 'SEND_EXPIRING', to: 'bob', messageId: new Uint8Array(16).fill(7), envelope: Uint8Array.of(1), ttlMs: 1_000 });
    expect(sent.name).toBe('OK');
    time += 1_000;

    disk.hold();
    const purged = relay.purgeExpired();
    const purging = watch(purged);
    expect((await alice.request({ name: 'LOOKUP', username: 'bob' })).name).toBe('USER');
    expect(purging.settled()).toBe(false);
    disk.release();
    expect(await purged).toBe(1);
    // Nothing left to drop: nothing to flush, so a held disk does not hold it up.
    disk.hold();
    expect(await relay.purgeExpired()).toBe(0);
    disk.release();
  });

  it('do not include a live delivery acked in time: its OK goes out while the disk is held, as nothing of it is stored', async () => {
    const disk = new Disk();
    const relay = await relayWith(disk);
    const bob = await WireClient.registered(relay.url, await createIdentity('bob'));
    const alice = await WireClient.registered(relay.url, await createIdentity('alice'));
    clients.push(bob, alice);
    const messageId = new Uint8Array(16).fill(9);
    disk.hold();
    const sent = alice.request({ name: 'SEND', to: 'bob', messageId, envelope: Uint8Array.of(1, 2, 3) });
    expect(await bob.next('DELIVER')).toMatchObject({ messageId });
    bob.post({ name: 'ACK', messageId });
    expect((await sent).name).toBe('OK');
    disk.release();
  });

  it('flush nothing for a chat whose every message is acked in time, the delivered-id log included', async () => {
    const disk = new Disk();
    // A hold ten times the default: every ACK here comes in time, however slow this machine's first messages are.
    const relay = await relayWith(disk, { holdMs: 250 });
    const [bobId, aliceId] = await Promise.all([createIdentity('bob'), createIdentity('alice')]);
    const bob = await WireClient.registered(relay.url, bobId);
    const alice = await WireClient.registered(relay.url, aliceId);
    clients.push(bob, alice);
    // The registrations were flushed before their OKs.
    const before = disk.syncs;
    expect(before).toBeGreaterThan(0);
    for (let i = 1; i <= 3; i++) {
      const messageId = new Uint8Array(16).fill(i);
      const sent = alice.request({ name: 'SEND', to: 'bob', messageId, envelope: Uint8Array.of(i) });
      expect(await bob.next('DELIVER')).toMatchObject({ messageId });
      bob.post({ name: 'ACK', messageId });
      expect((await sent).name).toBe('OK');
    }
    // The three ids go to the log in a transaction of their own, which asks for no flush.
    await disk.nextAppend();
    expect(disk.syncs).toBe(before);

    // They are in the log all the same: after a restart, a retry of one is dropped, not delivered again.
    relays.splice(relays.indexOf(relay), 1);
    const next = await relay.restart();
    relays.push(next);
    const again = await WireClient.connect(next.url);
    clients.push(again);
    await expectOk(again.auth(aliceId));
    expect((await again.request({ name: 'SEND', to: 'bob', messageId: new Uint8Array(16).fill(1), envelope: Uint8Array.of(1) })).name).toBe('OK');
    expect(next.queueDepth('bob')).toBe(0);
  });

  it('is INTERNAL when the flush fails, and the relay goes on serving', async () => {
    const disk = new Disk();
    const relay = await relayWith(disk);
    const bob = await createIdentity('bob');
    const bobClient = await WireClient.registered(relay.url, bob);
    clients.push(bobClient);

    disk.fail(new Error('EIO: the disk is gone'));
    const published = await bobClient.request({ name: 'PUBLISH_ONE_TIME_PREKEYS', prekeys: encodeOneTimePrekeys([{ keyId: 40, publicKey: key(40) }]) });
    expect(published).toMatchObject({ name: 'ERROR', code: 'INTERNAL' });
    expect((await bobClient.request({ name: 'LOOKUP', username: 'bob' })).name).toBe('USER');
  });
});
