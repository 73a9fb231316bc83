import type { EventName, EventPayload } from '../shared/contract.js';

type Listener<E extends EventName> = (payload: EventPayload<E>) => void;

/** Contract events from the core to its host. A throwing listener never breaks the core. */
export class CoreEvents {
  readonly #listeners = new Map<EventName, Set<(payload: never) => void>>();

  on<E extends EventName>(event: E, listener: Listener<E>): () => void {
    let set = this.#listeners.get(event);
    if (set === undefined) {
      set = new Set();
      this.#listeners.set(event, set);
    }
    set.add(listener);
    return () => {
      set.delete(listener);
    };
  }

  emit<E extends EventName>(event: E, payload: EventPayload<E>): void {
    for (const listener of [...(this.#listeners.get(event) ?? [])]) {
      try {
        (listener as Listener<E>)(payload);
      } catch {
        /* a host's listener failing is the host's problem */
      }
    }
  }

  clear(): void {
    this.#listeners.clear();
  }
}
