import { receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { missingCaseError, ParleyError } from '../../shared/errors.js';
import { toErrorShape } from '../../shared/result.js';
import type { KeychainPort } from '../vault/keychain.js';
import { KeychainAvailability, KeychainReply, KeychainRequest, type WireResult } from './protocol.js';

/**
 * KeychainPort is synchronous and the OS keychain (Electron safeStorage) lives on the host's thread,
 * so the worker posts each request on a dedicated port and blocks on a shared flag until the host
 * has answered. Only the worker waits; the host answers from its event loop like any message.
 */

const IDLE = 0;
const ANSWERED = 1;
/** Generous: the OS may ask the user to allow access before it answers. */
const KEYCHAIN_WAIT_MS = 120_000;

/** The shared flag the two sides use; pass it to both ends. */
export function keychainSignal(): Int32Array {
  return new Int32Array(new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT));
}

function run(keychain: KeychainPort, request: KeychainRequest): unknown {
  switch (request.op) {
    case 'availability':
      return keychain.availability();
    case 'seal':
      return keychain.seal(request.bytes);
    case 'open':
      return keychain.open(request.bytes);
    default:
      throw missingCaseError(request);
  }
}

/** Host side: answer the worker's keychain requests with the real port. */
export function serveKeychain(port: MessagePort, signal: Int32Array, keychain: KeychainPort): void {
  port.on('message', (message: unknown) => {
    let result: WireResult;
    try {
      result = { ok: true, value: run(keychain, KeychainRequest.parse(message)) };
    } catch (error) {
      result = { ok: false, error: toErrorShape(error) };
    }
    // The reply is queued on the port before the flag flips, so the woken worker finds it.
    port.postMessage({ result } satisfies KeychainReply);
    Atomics.store(signal, 0, ANSWERED);
    Atomics.notify(signal, 0);
  });
}

/** Worker side: a KeychainPort whose every call is answered by the host. */
export function keychainOverPort(port: MessagePort, signal: Int32Array): KeychainPort {
  const call = (request: KeychainRequest): unknown => {
    // A reply that arrived after an earlier call gave up must not answer this one.
    while (receiveMessageOnPort(port) !== undefined);
    Atomics.store(signal, 0, IDLE);
    port.postMessage(request);
    const waited = Atomics.wait(signal, 0, IDLE, KEYCHAIN_WAIT_MS);
    const received = receiveMessageOnPort(port);
    if (waited === 'timed-out' || received === undefined) {
      throw new ParleyError('KEYCHAIN_UNAVAILABLE', 'The system keychain did not answer');
    }
    const { result } = KeychainReply.parse(received.message);
    if (!result.ok) throw new ParleyError(result.error.code, result.error.message);
    return result.value;
  };
  return {
    availability: () => KeychainAvailability.parse(call({ op: 'availability' })),
    seal: (secret) => asBytes(call({ op: 'seal', bytes: secret })),
    open: (sealed) => asBytes(call({ op: 'open', bytes: sealed })),
  };
}

function asBytes(value: unknown): Uint8Array {
  if (!(value instanceof Uint8Array)) throw new ParleyError('KEYCHAIN_UNAVAILABLE', 'The system keychain answered with something other than bytes');
  return value;
}
