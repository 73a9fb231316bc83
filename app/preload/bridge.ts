import type { IpcRenderer, IpcRendererEvent } from 'electron';
import { IPC_EVENT_CHANNEL, IPC_INVOKE_CHANNEL, type ParleyApi } from '../shared/api.js';
import type { EventPayload, MethodOutput } from '../shared/contract.js';
import { isEventName, type EventName, type MethodName } from '../shared/names.js';
import type { Result } from '../shared/result.js';

type IpcPort = Pick<IpcRenderer, 'invoke' | 'on' | 'removeListener'>;

/** Build window.parley over Electron IPC; main validates every call, this side only shapes it. */
export function createParleyBridge(ipc: IpcPort): ParleyApi {
  return {
    async invoke<M extends MethodName>(method: M, input: unknown): Promise<Result<MethodOutput<M>>> {
      try {
        const result: unknown = await ipc.invoke(IPC_INVOKE_CHANNEL, method, input);
        return result as Result<MethodOutput<M>>;
      } catch {
        return { ok: false, error: { code: 'INTERNAL', message: 'The call did not reach Parley' } };
      }
    },
    on<E extends EventName>(event: E, listener: (payload: EventPayload<E>) => void): () => void {
      if (!isEventName(event)) throw new TypeError(`Unknown Parley event: ${String(event).slice(0, 64)}`);
      if (typeof listener !== 'function') throw new TypeError('A Parley event listener must be a function');
      // The IpcRendererEvent carries the sender and ports; it never reaches the page.
      const wrapped = (_ipcEvent: IpcRendererEvent, name: unknown, payload: unknown): void => {
        if (name === event) listener(payload as EventPayload<E>);
      };
      ipc.on(IPC_EVENT_CHANNEL, wrapped);
      return () => {
        ipc.removeListener(IPC_EVENT_CHANNEL, wrapped);
      };
    },
  };
}
