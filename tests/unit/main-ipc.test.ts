import type { IpcMainInvokeEvent, WebContents, WebFrameMain } from 'electron';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { forwardEvents, mainFrameOf, registerIpcHandlers } from '../../app/main/ipc.js';
import { IPC_EVENT_CHANNEL, IPC_INVOKE_CHANNEL, type ParleyApi } from '../../app/shared/api.js';
import type { EventName, EventPayload, MethodName } from '../../app/shared/contract.js';
import { ok, type Result } from '../../app/shared/result.js';

/** The preload's view of Electron: a recording contextBridge and an ipcRenderer that keeps its listeners. */
const preloadElectron = vi.hoisted(() => {
  type Listener = (event: unknown, ...args: unknown[]) => void;
  const listeners = new Set<Listener>();
  const exposed: Array<{ key: string; api: unknown }> = [];
  const invoked: unknown[][] = [];
  return {
    exposed,
    invoked,
    listeners,
    module: {
      contextBridge: { exposeInMainWorld: (key: string, api: unknown) => void exposed.push({ key, api }) },
      ipcRenderer: {
        invoke: async (...args: unknown[]) => {
          invoked.push(args);
          return { ok: true, value: { state: 'none' } };
        },
        on: (_channel: string, listener: Listener) => void listeners.add(listener),
        removeListener: (_channel: string, listener: Listener) => void listeners.delete(listener),
      },
    },
  };
});
vi.mock('electron', () => preloadElectron.module);

type Call = { method: MethodName; input: unknown };

/** A plain test double of the ParleyApi port: records calls, answers ok, and lets the test emit events. */
function fakeApi(): { api: ParleyApi; calls: Call[]; emit: (name: EventName, payload: unknown) => void } {
  const calls: Call[] = [];
  const listeners = new Map<EventName, Set<(payload: never) => void>>();
  const api: ParleyApi = {
    async invoke(method, input) {
      calls.push({ method, input });
      return ok({ echoed: method }) as unknown as Result<never>;
    },
    on<E extends EventName>(event: E, listener: (payload: EventPayload<E>) => void) {
      const set = listeners.get(event) ?? new Set();
      set.add(listener);
      listeners.set(event, set);
      return () => void set.delete(listener);
    },
  };
  const emit = (name: EventName, payload: unknown): void => {
    for (const listener of listeners.get(name) ?? []) (listener as (payload: unknown) => void)(payload);
  };
  return { api, calls, emit };
}

interface Window {
  contents: WebContents;
  mainFrame: WebFrameMain;
  sent: unknown[][];
}

function fakeWindow(url = 'app://parley/index.html'): Window {
  const mainFrame = { url } as WebFrameMain;
  const sent: unknown[][] = [];
  const contents = {
    mainFrame,
    isDestroyed: () => false,
    send: (...args: unknown[]) => void sent.push(args),
  } as unknown as WebContents;
  return { contents, mainFrame, sent };
}

function invokeEvent(sender: WebContents, senderFrame: WebFrameMain | null): IpcMainInvokeEvent {
  return { sender, senderFrame } as unknown as IpcMainInvokeEvent;
}

type Handler = (event: IpcMainInvokeEvent, ...args: unknown[]) => Promise<Result<unknown>>;

function register(api: ParleyApi, window: Window): Handler {
  const handlers = new Map<string, Handler>();
  const ipcMain = { handle: (channel: string, handler: Handler) => void handlers.set(channel, handler) };
  registerIpcHandlers(ipcMain as never, api, mainFrameOf(() => window.contents));
  const handler = handlers.get(IPC_INVOKE_CHANNEL);
  if (handler === undefined) throw new Error('no handler registered on the invoke channel');
  return handler;
}

describe('IPC handler', () => {
  let api: ReturnType<typeof fakeApi>;
  let window: Window;
  let handler: Handler;

  beforeEach(() => {
    api = fakeApi();
    window = fakeWindow();
    handler = register(api.api, window);
  });

  it('passes a valid call from the main frame to the core, with the parsed input', async () => {
    const result = await handler(invokeEvent(window.contents, window.mainFrame), 'contacts.add', { username: '  Bob.Smith ' });
    expect(result).toEqual({ ok: true, value: { echoed: 'contacts.add' } });
    expect(api.calls).toEqual([{ method: 'contacts.add', input: { username: 'bob.smith' } }]);
  });

  it('rejects invalid input with VALIDATION_FAILED and does not call the core', async () => {
    const event = invokeEvent(window.contents, window.mainFrame);
    const results = [
      await handler(event, 'contacts.add', { username: 'x' }),
      await handler(event, 'messages.send', { contact: 'bob', text: '' }),
      await handler(event, 'profile.status', { extra: true }),
      await handler(event, 'contacts.add', 'not an object'),
    ];
    for (const result of results) {
      expect(result.ok).toBe(false);
      if (!result.ok) expect(result.error.code).toBe('VALIDATION_FAILED');
    }
    expect(api.calls).toEqual([]);
  });

  it('rejects an unknown method with IPC_UNKNOWN_METHOD', async () => {
    const event = invokeEvent(window.contents, window.mainFrame);
    for (const method of ['vault.exportKeys', '__proto__', 'toString', 42, undefined]) {
      const result = await handler(event, method, {});
      expect(result).toMatchObject({ ok: false, error: { code: 'IPC_UNKNOWN_METHOD' } });
    }
    expect(api.calls).toEqual([]);
  });

  it('rejects a subframe, a foreign URL, another webContents and a missing frame with IPC_FORBIDDEN_SENDER', async () => {
    const subframe = { url: 'app://parley/index.html' } as WebFrameMain;
    const other = fakeWindow();
    const foreignPage = fakeWindow('https://evil.example/');
    const foreignHandler = register(api.api, foreignPage);
    const attempts: Array<Promise<Result<unknown>>> = [
      handler(invokeEvent(window.contents, subframe), 'profile.status', {}),
      handler(invokeEvent(other.contents, other.mainFrame), 'profile.status', {}),
      handler(invokeEvent(window.contents, null), 'profile.status', {}),
      foreignHandler(invokeEvent(foreignPage.contents, foreignPage.mainFrame), 'profile.status', {}),
    ];
    for (const result of await Promise.all(attempts)) {
      expect(result).toMatchObject({ ok: false, error: { code: 'IPC_FORBIDDEN_SENDER' } });
    }
    expect(api.calls).toEqual([]);
  });

  it('turns a throwing core into an INTERNAL result without its text', async () => {
    const throwing: ParleyApi = {
      invoke: () => Promise.reject(new Error('secret detail')),
      on: () => () => undefined,
    };
    const result = await register(throwing, window)(invokeEvent(window.contents, window.mainFrame), 'profile.status', {});
    expect(result).toEqual({ ok: false, error: { code: 'INTERNAL', message: 'An internal error occurred' } });
  });

  it('forwards each contract event to the window until stopped', () => {
    const stop = forwardEvents(api.api, () => window.contents);
    api.emit('connection.changed', { state: 'online' });
    api.emit('contact.added', { username: 'bob', identityKey: 'ab', addedAt: 1 });
    stop();
    api.emit('connection.changed', { state: 'offline' });
    expect(window.sent).toEqual([
      [IPC_EVENT_CHANNEL, 'connection.changed', { state: 'online' }],
      [IPC_EVENT_CHANNEL, 'contact.added', { username: 'bob', identityKey: 'ab', addedAt: 1 }],
    ]);
  });
});

describe('preload', () => {
  type Bridge = { invoke: (method: unknown, input: unknown) => Promise<unknown>; on: (event: unknown, listener: unknown) => () => void };

  async function loadBridge(): Promise<Bridge> {
    await import('../../app/preload/preload.js');
    expect(preloadElectron.exposed.map((entry) => entry.key)).toEqual(['parley']);
    return preloadElectron.exposed[0]?.api as Bridge;
  }

  it('exposes only window.parley with invoke and on', async () => {
    const bridge = await loadBridge();
    expect(Object.keys(bridge).sort()).toEqual(['invoke', 'on']);
    expect(typeof bridge.invoke).toBe('function');
    expect(typeof bridge.on).toBe('function');
  });

  it('sends invocations over the invoke channel', async () => {
    const bridge = await loadBridge();
    const result = await bridge.invoke('profile.status', {});
    expect(result).toEqual({ ok: true, value: { state: 'none' } });
    expect(preloadElectron.invoked.at(-1)).toEqual([IPC_INVOKE_CHANNEL, 'profile.status', {}]);
  });

  it('rejects unknown event names', async () => {
    const bridge = await loadBridge();
    for (const name of ['bogus', 'ipc-message', '__proto__', 7]) {
      expect(() => bridge.on(name, () => undefined)).toThrow(TypeError);
    }
    expect(preloadElectron.listeners.size).toBe(0);
  });

  it('hands listeners the payload only, for their own event, until unsubscribed', async () => {
    const bridge = await loadBridge();
    const received: unknown[][] = [];
    const unsubscribe = bridge.on('connection.changed', (...args: unknown[]) => received.push(args));
    const ipcEvent = { sender: 'ipcRenderer internals', ports: [] };
    for (const listener of preloadElectron.listeners) {
      listener(ipcEvent, 'message.added', { id: 'other' });
      listener(ipcEvent, 'connection.changed', { state: 'online' });
    }
    unsubscribe();
    expect(preloadElectron.listeners.size).toBe(0);
    expect(received).toEqual([[{ state: 'online' }]]);
  });
});
