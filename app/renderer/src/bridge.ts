import {
  BridgeEvent,
  BridgeReply,
  events,
  isEventName,
  type EventName,
  type EventPayload,
  type MethodInput,
  type MethodName,
  type MethodOutput,
  type ParleyApi,
  type Result,
} from '../../shared/index.js';

/** The devhost's window.parley: the contract carried over a loopback WebSocket. */
export interface BridgeApi extends ParleyApi {
  /** Runs after the socket comes back, so caches can refetch what they missed while it was down. */
  onReconnect(listener: () => void): () => void;
}

const RETRY_FIRST_MS = 250;
const RETRY_MAX_MS = 5_000;

type Settle = (result: Result<unknown>) => void;
type Listener = (payload: unknown) => void;

interface Invocation {
  frame: string;
  settle: Settle;
}

const DISCONNECTED: Result<never> = {
  ok: false,
  error: { code: 'HOST_DISCONNECTED', message: 'The connection to Parley was lost before it answered. Try again.' },
};

export function createBridgeApi(url: string): BridgeApi {
  let socket: WebSocket | null = null;
  let nextId = 1;
  let retryMs = RETRY_FIRST_MS;
  let hasOpened = false;
  const unsent = new Map<number, Invocation>();
  const inFlight = new Map<number, Settle>();
  const listeners = new Map<EventName, Set<Listener>>();
  const reconnectListeners = new Set<() => void>();

  function flush(): void {
    if (socket?.readyState !== WebSocket.OPEN) return;
    for (const [id, invocation] of unsent) {
      socket.send(invocation.frame);
      unsent.delete(id);
      inFlight.set(id, invocation.settle);
    }
  }

  function receive(data: unknown): void {
    if (typeof data !== 'string') return;
    let message: unknown;
    try {
      message = JSON.parse(data);
    } catch {
      return;
    }
    const event = BridgeEvent.safeParse(message);
    if (event.success) {
      if (!isEventName(event.data.event)) return;
      const parsed = events[event.data.event].safeParse(event.data.payload);
      if (!parsed.success) return;
      for (const listener of listeners.get(event.data.event) ?? []) listener(parsed.data);
      return;
    }
    const reply = BridgeReply.safeParse(message);
    if (reply.success && reply.data.id !== null) {
      const settle = inFlight.get(reply.data.id);
      inFlight.delete(reply.data.id);
      settle?.(reply.data.result as Result<unknown>);
    }
  }

  function connect(): void {
    const ws = new WebSocket(url);
    socket = ws;
    ws.addEventListener('open', () => {
      retryMs = RETRY_FIRST_MS;
      flush();
      if (hasOpened) for (const listener of reconnectListeners) listener();
      hasOpened = true;
    });
    ws.addEventListener('message', (event) => receive(event.data));
    ws.addEventListener('close', () => {
      if (socket === ws) socket = null;
      // Whatever was sent may or may not have run; the caller decides whether to retry.
      for (const settle of inFlight.values()) settle(DISCONNECTED);
      inFlight.clear();
      setTimeout(connect, retryMs);
      retryMs = Math.min(retryMs * 2, RETRY_MAX_MS);
    });
  }

  connect();

  return {
    invoke<M extends MethodName>(method: M, input: MethodInput<M>): Promise<Result<MethodOutput<M>>> {
      const id = nextId++;
      return new Promise((resolve) => {
        const settle: Settle = (result) => resolve(result as Result<MethodOutput<M>>);
        unsent.set(id, { frame: JSON.stringify({ id, method, input }), settle });
        flush();
      });
    },
    on<E extends EventName>(event: E, listener: (payload: EventPayload<E>) => void): () => void {
      const set = listeners.get(event) ?? new Set<Listener>();
      listeners.set(event, set);
      const wrapped: Listener = (payload) => listener(payload as EventPayload<E>);
      set.add(wrapped);
      return () => set.delete(wrapped);
    },
    onReconnect(listener: () => void): () => void {
      reconnectListeners.add(listener);
      return () => reconnectListeners.delete(listener);
    },
  };
}
