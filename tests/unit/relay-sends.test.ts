import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FrameOf } from '../../relay/protocol/index.js';
import { HeldEnvelopes } from '../../relay/src/delivery/held-envelopes.js';
import { acceptSend, type SendDeps } from '../../relay/src/delivery/sends.js';
import type { SendFrame } from '../../relay/src/handlers/messages.js';
import { Router, type Peer } from '../../relay/src/router.js';
import { GroupCommit } from '../../relay/src/store/group-commit.js';
import type { RelayStore } from '../../relay/src/store/ports.js';
import { openSqliteStore } from '../../relay/src/store/sqlite.js';
import { RecordingClient, addUsers } from '../support/delivery.js';

const HOLD_MS = 20;

let dir: string;
let store: RelayStore;
let writes: GroupCommit;
const senders: RecordingClient[] = [];

function sender(): RecordingClient {
  const client = new RecordingClient();
  senders.push(client);
  return client;
}

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'parley-sends-'));
  store = openSqliteStore(dir);
  writes = new GroupCommit(store.transaction, HOLD_MS, store.syncCommitted, store.inTransaction);
  addUsers(store, ['alice', 'bob']);
});

afterEach(async () => {
  writes.flush();
  await writes.settled();
  // No request of these tests fails.
  expect(senders.flatMap((client) => client.failures)).toEqual([]);
  senders.length = 0;
  store.close();
  await rm(dir, { recursive: true, force: true });
});

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

/** A recipient's live connection, which takes no push while it receives its stored queue. */
class RecordingPeer implements Peer {
  receivingQueue = false;
  readonly pushed: string[] = [];

  deliver(frame: FrameOf<'DELIVER'>): boolean {
    if (this.receivingQueue) return false;
    this.pushed.push(hex(frame.messageId));
    return true;
  }

  notify(): void {}
  replace(): void {}
}

function relayParts(retryAfterMs = 0): SendDeps & { router: Router; held: HeldEnvelopes } {
  return {
    store,
    writes,
    router: new Router(),
    held: new HeldEnvelopes(writes, store.queue, HOLD_MS),
    sendLimits: { caps: { count: 100, bytes: 1_000_000 }, maxTtlMs: 60_000 },
    limiter: { takeMessageNow: () => retryAfterMs },
    options: { now: () => Date.now(), holdMs: HOLD_MS },
  };
}

function send(to = 'bob', requestId = 1, messageId = new Uint8Array(randomBytes(16))): SendFrame {
  return { name: 'SEND', requestId, to, messageId, envelope: Uint8Array.of(1, 2, 3) };
}

/** Everything submitted so far is committed and durable (held envelopes included). */
async function committed(): Promise<void> {
  writes.flush();
  await writes.settled();
}

describe('relay SEND path', () => {
  it('pushes to an online recipient at once and holds the envelope; its OK waits for the commit', async () => {
    const deps = relayParts();
    const bob = new RecordingPeer();
    deps.router.attach('bob', bob);
    const alice = sender();
    const frame = send();
    expect(acceptSend(deps, alice, frame, 'alice')).toBeUndefined();
    expect(bob.pushed).toEqual([hex(frame.messageId)]);
    expect(deps.held.find('bob', frame.messageId)).toBeDefined();
    expect(alice.sent).toEqual([]);
    await committed();
    expect(alice.sent).toEqual([{ name: 'OK', requestId: 1 }]);
    // Not acked within its hold: stored.
    expect(store.queue.depth('bob')).toBe(1);
  });

  it('stores first for a recipient receiving its stored queue, and pushes once stored', async () => {
    const deps = relayParts();
    const bob = new RecordingPeer();
    bob.receivingQueue = true;
    deps.router.attach('bob', bob);
    const alice = sender();
    const frame = send();
    const answered = acceptSend(deps, alice, frame, 'alice');
    // Not held: a held envelope is stored only after its hold, past the end of the drain that should have read it.
    expect(deps.held.find('bob', frame.messageId)).toBeUndefined();
    bob.receivingQueue = false;
    await answered;
    expect(store.queue.depth('bob')).toBe(1);
    expect(alice.sent).toEqual([{ name: 'OK', requestId: 1 }]);
    expect(bob.pushed).toEqual([hex(frame.messageId)]);
  });

  it('stores for an offline recipient, then OKs', async () => {
    const deps = relayParts();
    const alice = sender();
    await acceptSend(deps, alice, send(), 'alice');
    expect(store.queue.depth('bob')).toBe(1);
    expect(alice.sent).toEqual([{ name: 'OK', requestId: 1 }]);
  });

  it('pushes a retry of a held envelope no more, and OKs each when the first is stored', async () => {
    const deps = relayParts();
    const bob = new RecordingPeer();
    deps.router.attach('bob', bob);
    const alice = sender();
    const messageId = new Uint8Array(randomBytes(16));
    acceptSend(deps, alice, send('bob', 1, messageId), 'alice');
    acceptSend(deps, alice, send('bob', 2, messageId), 'alice');
    expect(bob.pushed).toEqual([hex(messageId)]);
    await committed();
    expect(alice.sent).toEqual([
      { name: 'OK', requestId: 1 },
      { name: 'OK', requestId: 2 },
    ]);
    expect(store.queue.depth('bob')).toBe(1);
  });

  it('answers a SEND to an unknown user with USER_NOT_FOUND and stores nothing', () => {
    const deps = relayParts();
    const alice = sender();
    expect(acceptSend(deps, alice, send('nobody'), 'alice')).toBeUndefined();
    expect(alice.sent).toEqual([{ name: 'ERROR', requestId: 1, code: 'USER_NOT_FOUND', message: 'no such user', retryAfterMs: 0 }]);
  });

  it('refuses a SEND past the rate limit with its retry-after, and neither stores nor pushes it', () => {
    const deps = relayParts(1_500);
    const bob = new RecordingPeer();
    deps.router.attach('bob', bob);
    const alice = sender();
    expect(acceptSend(deps, alice, send('bob', 7), 'alice')).toBeUndefined();
    expect(alice.refused).toEqual([[7, 1_500]]);
    expect(bob.pushed).toEqual([]);
    expect(deps.held.pending('bob').count).toBe(0);
  });
});
