import { randomBytes } from 'node:crypto';
import type { ServerFrame } from '../../relay/protocol/index.js';
import type { DeliveryClient } from '../../relay/src/delivery/client.js';
import type { RelayStore } from '../../relay/src/store/ports.js';

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
