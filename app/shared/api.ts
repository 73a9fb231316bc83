import type { EventName, EventPayload, MethodInput, MethodName, MethodOutput } from './contract.js';
import type { Result } from './result.js';

/**
 * What every host hands the UI as window.parley, and what core/api implements.
 * invoke never throws: failures come back as { ok: false, error: { code, message } }.
 */
export interface ParleyApi {
  invoke<M extends MethodName>(method: M, input: MethodInput<M>): Promise<Result<MethodOutput<M>>>;
  /** Subscribe to a contract event; returns the unsubscribe function. */
  on<E extends EventName>(event: E, listener: (payload: EventPayload<E>) => void): () => void;
}

/** The channel names Electron IPC uses for the contract. */
export const IPC_INVOKE_CHANNEL = 'parley:invoke';
export const IPC_EVENT_CHANNEL = 'parley:event';
