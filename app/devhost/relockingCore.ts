import {
  EVENT_NAMES,
  fail,
  toErrorShape,
  type EventName,
  type EventPayload,
  type MethodInput,
  type MethodName,
  type MethodOutput,
  type ParleyApi,
  type Result,
} from '../shared/index.js';
import type { Core } from '../core/index.js';

type Listener = (payload: unknown) => void;

export interface RelockingCore {
  /** Always the current core; calls made while it is being reopened wait for the new one. */
  api: ParleyApi;
  /** Close the core and open a fresh one over the same profile, which starts locked. */
  relock(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Holds the devhost's core. The browser page plays the app window: when the last page goes away the
 * profile locks (the keys leave memory), so a reload asks for the passphrase again.
 */
export async function openRelockingCore(open: () => Promise<Core>): Promise<RelockingCore> {
  const listeners = new Map<EventName, Set<Listener>>();
  let stopForwarding: Array<() => void> = [];

  const wired = async (): Promise<Core> => {
    const core = await open();
    stopForwarding = EVENT_NAMES.map((event) =>
      core.on(event, (payload) => {
        for (const listener of listeners.get(event) ?? []) listener(payload);
      }),
    );
    return core;
  };

  let current: Promise<Core> = Promise.resolve(await wired());

  const retire = async (core: Core): Promise<void> => {
    for (const stop of stopForwarding) stop();
    stopForwarding = [];
    await core.close();
  };

  return {
    api: {
      async invoke<M extends MethodName>(method: M, input: MethodInput<M>): Promise<Result<MethodOutput<M>>> {
        try {
          return await (await current).invoke(method, input);
        } catch (error) {
          return fail(toErrorShape(error));
        }
      },
      on<E extends EventName>(event: E, listener: (payload: EventPayload<E>) => void): () => void {
        const set = listeners.get(event) ?? new Set<Listener>();
        listeners.set(event, set);
        const wrapped: Listener = (payload) => listener(payload as EventPayload<E>);
        set.add(wrapped);
        return () => set.delete(wrapped);
      },
    },
    relock() {
      // A failed reopen leaves a rejected promise; the next relock tries again from there.
      current = current
        .catch(() => null)
        .then(async (core) => {
          if (core) await retire(core);
          return wired();
        });
      return current.then(() => undefined);
    },
    async close() {
      const core = await current.catch(() => null);
      if (core) await retire(core);
    },
  };
}
