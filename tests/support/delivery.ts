import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach } from 'vitest';
import type { ServerFrame } from '../../relay/protocol/index.js';
import type { DeliveryClient } from '../../relay/src/delivery/client.js';
import { GroupCommit } from '../../relay/src/store/group-commit.js';
import type { RelayStore } from '../../relay/src/store/ports.js';
import { openSqliteStore } from '../../relay/src/store/sqlite.js';

/** Registers each username in the store, with random keys. */
export function addUsers(store: RelayStore, usernames: readonly string[]): void {
  const key = (): Uint8Array => new Uint8Array(randomBytes(32));
  for (const username of usernames) {
    store.users.create({ username, identityKey: key(), agreementKey: key(), agreementSig: new Uint8Array(randomBytes(64)), registeredAt: 0 }, username);
  }
}

/** A connection as the SEND and ACK paths see it, recording what they told it. */
export class RecordingClient implements DeliveryClient {
  receiptBoxKey: string | undefined = undefined;
  readonly sent: ServerFrame[] = [];
  /** Rate-limit refusals, as [requestId, retryAfterMs]. */
  readonly refused: Array<[number, number]> = [];
  /** Failed requests, as [requestId, error]. */
  readonly failures: Array<[number, unknown]> = [];

  send(frame: ServerFrame): boolean {
    this.sent.push(frame);
    return true;
  }

  rateLimited(requestId: number, _message: string, retryAfterMs: number): void {
    this.refused.push([requestId, retryAfterMs]);
  }

  answerFailure(requestId: number, error: unknown): boolean {
    this.failures.push([requestId, error]);
    return false;
  }

  heldSettled(requestId: number): void {
    this.send({ name: 'OK', requestId });
  }

  heldFailed(requestId: number, error: unknown): void {
    this.failures.push([requestId, error]);
  }
}

/** Each test's store (alice and bob registered) and the group commit over it, as the relay makes them. */
export interface DeliveryStore {
  readonly store: RelayStore;
  readonly writes: GroupCommit;
  /** Everything submitted so far is committed and durable, held envelopes included. */
  committed(): Promise<void>;
}

/** A fresh store in a folder of its own for each test, its writes committed on a grid of holdMs; closed after the test. */
export function useDeliveryStore(holdMs: number): DeliveryStore {
  let current: { dir: string; store: RelayStore; writes: GroupCommit } | undefined;
  const opened = (): NonNullable<typeof current> => {
    if (current === undefined) throw new Error('the store is opened for each test, not outside one');
    return current;
  };
  beforeEach(async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'parley-delivery-'));
    const store = openSqliteStore(dir);
    current = { dir, store, writes: new GroupCommit(store.transaction, holdMs, store.syncCommitted, store.inTransaction) };
    addUsers(store, ['alice', 'bob']);
  });
  afterEach(async () => {
    const { dir, store, writes } = opened();
    current = undefined;
    writes.flush();
    await writes.settled();
    store.close();
    await rm(dir, { recursive: true, force: true });
  });
  return {
    get store() {
      return opened().store;
    },
    get writes() {
      return opened().writes;
    },
    async committed() {
      const { writes } = opened();
      writes.flush();
      await writes.settled();
    },
  };
}
