import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { MessageChannel, Worker, type TransferListItem } from 'node:worker_threads';
import type { ParleyApi } from '../../shared/api.js';
import type { EventPayload, MethodInput, MethodName, MethodOutput } from '../../shared/contract.js';
import { missingCaseError, ParleyError, type ParleyErrorShape } from '../../shared/errors.js';
import type { Result } from '../../shared/result.js';
import { CoreEvents } from '../events.js';
import type { Core, CoreOptions } from '../index.js';
import { keychainSignal, serveKeychain } from './keychain-bridge.js';
import { WorkerMessage, type CoreCall, type HostRequest, type WireResult, type WorkerStart } from './protocol.js';

export interface WorkerCoreOptions extends CoreOptions {
  /**
   * The worker entry: core-worker.ts beside this file when running from source (tsx, tests), or the
   * bundled core-worker.cjs beside the bundle (Electron) — the default picks by this file's own extension.
   */
  workerEntry?: string;
  /** Called once if the worker stops without close() (a crash): every call since fails with CORE_WORKER_EXITED. */
  onExit?: (error: ParleyErrorShape) => void;
}

export interface WorkerCore extends Core {
  /** Stop the worker at once, as a crash would (tests; a host that gives up on a hung core). */
  terminate(): Promise<void>;
}

const EXITED: ParleyErrorShape = { code: 'CORE_WORKER_EXITED', message: 'Parley’s engine stopped. Restart Parley; your messages are safe on disk.' };

function defaultEntry(): string {
  const here = import.meta.url;
  return fileURLToPath(new URL(here.endsWith('.ts') ? './core-worker.ts' : './core-worker.cjs', here));
}

/**
 * Node 20 does not apply ESM loader hooks inside workers, so a TypeScript entry is loaded through
 * tsx's synchronous CommonJS hook; a bundled .cjs entry loads as it is.
 */
function spawn(entry: string, workerData: WorkerStart, transferList: readonly TransferListItem[]): Worker {
  if (!entry.endsWith('.ts')) return new Worker(entry, { workerData, transferList: [...transferList] });
  const tsx = createRequire(import.meta.url).resolve('tsx/cjs/api');
  const bootstrap = `require(${JSON.stringify(tsx)}).register(); require(${JSON.stringify(entry)});`;
  return new Worker(bootstrap, { eval: true, workerData, transferList: [...transferList] });
}

/** Open the core in a worker thread: the same Core, but SQL and crypto never block the caller's thread. */
export function openCoreInWorker(options: WorkerCoreOptions): Promise<WorkerCore> {
  const { keychain, workerEntry, onExit, ...plain } = options;
  const channel = keychain === undefined ? undefined : new MessageChannel();
  const signal = keychainSignal();
  const start: WorkerStart = { ...plain, ...(channel === undefined ? {} : { keychain: { port: channel.port2, signal } }) };
  const worker = spawn(workerEntry ?? defaultEntry(), start, channel === undefined ? [] : [channel.port2]);
  if (channel !== undefined && keychain !== undefined) serveKeychain(channel.port1, signal, keychain);

  const events = new CoreEvents();
  const pending = new Map<number, (result: WireResult) => void>();
  let nextId = 0;
  let exited = false;
  let opened = false;
  let closing = false;

  return new Promise((resolveOpen, rejectOpen) => {
    const stop = (): void => {
      if (exited) return;
      exited = true;
      channel?.port1.close();
      for (const settle of pending.values()) settle({ ok: false, error: EXITED });
      pending.clear();
      rejectOpen(new ParleyError(EXITED.code, 'The core could not start'));
      // Before 'opened' the caller hears it from the rejected open instead.
      if (opened && !closing) onExit?.(EXITED);
    };
    worker.on('error', stop);
    worker.on('exit', stop);
    worker.on('message', (raw: unknown) => {
      const parsed = WorkerMessage.safeParse(raw);
      // The worker is our own code: a message it should never send means it is broken, so stop it.
      if (!parsed.success) {
        void worker.terminate();
        return;
      }
      const message = parsed.data;
      switch (message.kind) {
        case 'opened':
          opened = true;
          resolveOpen(proxy);
          return;
        case 'openFailed':
          closing = true;
          rejectOpen(new ParleyError(message.error.code, message.error.message));
          void worker.terminate();
          return;
        case 'reply': {
          const settle = pending.get(message.id);
          pending.delete(message.id);
          settle?.(message.result);
          return;
        }
        case 'event':
          events.emit(message.event, message.payload as EventPayload<typeof message.event>);
          return;
        default:
          throw missingCaseError(message);
      }
    });

    const request = (call: CoreCall): Promise<WireResult> => {
      if (exited) return Promise.resolve({ ok: false, error: EXITED });
      const id = nextId++;
      return new Promise((resolve) => {
        pending.set(id, resolve);
        try {
          worker.postMessage({ id, call } satisfies HostRequest);
        } catch {
          pending.delete(id);
          resolve({ ok: false, error: { code: 'VALIDATION_FAILED', message: 'The input cannot be passed to the core' } });
        }
      });
    };
    /** Core-only calls reject with the core's coded error, as the in-process core's do. */
    const call = async (body: CoreCall): Promise<void> => {
      const result = await request(body);
      if (!result.ok) throw new ParleyError(result.error.code, result.error.message);
    };

    const api: ParleyApi = {
      invoke: <M extends MethodName>(method: M, input: MethodInput<M>) =>
        request({ kind: 'invoke', method, input }) as Promise<Result<MethodOutput<M>>>,
      on: (event, listener) => events.on(event, listener),
    };
    const proxy: WorkerCore = {
      ...api,
      whenOnline: (timeoutMs) => call({ kind: 'whenOnline', timeoutMs }),
      whenSynced: (timeoutMs) => call({ kind: 'whenSynced', timeoutMs }),
      lock: (reason) => call({ kind: 'lock', reason }),
      exportBackup: (file, secret) => call({ kind: 'exportBackup', file, secret }),
      checkBackupExport: (request) => call({ kind: 'checkBackupExport', request }),
      exportBackupTo: (file, request) => call({ kind: 'exportBackupTo', file, request }),
      restoreBackupFrom: (file, backupPassphrase) => call({ kind: 'restoreBackupFrom', file, backupPassphrase }),
      async close() {
        if (exited) return;
        closing = true;
        await call({ kind: 'close' }).finally(() => worker.terminate());
        events.clear();
      },
      async terminate() {
        await worker.terminate();
      },
    };
  });
}
