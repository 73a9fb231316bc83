import { parentPort, workerData } from 'node:worker_threads';
import type { MethodInput } from '../../shared/contract.js';
import { EVENT_NAMES, isMethodName } from '../../shared/names.js';
import { fail, ok, toErrorShape } from '../../shared/result.js';
import { missingCaseError } from '../../shared/errors.js';
import { openCore, type Core } from '../index.js';
import { keychainOverPort } from './keychain-bridge.js';
import { HostRequest, WorkerStart, type CoreCall, type WireResult, type WorkerMessage } from './protocol.js';

/**
 * The worker thread's entry: opens the real core (database, keys, relay connection) here, so SQL
 * never runs on the host's thread, and answers the host's requests one message at a time.
 */

if (parentPort === null) throw new Error('core-worker runs only as a worker thread');
const port = parentPort;
const post = (message: WorkerMessage): void => port.postMessage(message);

async function answer(core: Core, call: CoreCall): Promise<WireResult> {
  switch (call.kind) {
    case 'invoke':
      // invoke validates the method and input itself and never throws.
      if (!isMethodName(call.method)) return fail({ code: 'IPC_UNKNOWN_METHOD', message: 'Unknown method' });
      return core.invoke(call.method, call.input as MethodInput<typeof call.method>);
    case 'whenOnline':
      return ok(await core.whenOnline(call.timeoutMs));
    case 'whenSynced':
      return ok(await core.whenSynced(call.timeoutMs));
    case 'lock':
      return ok(await core.lock(call.reason));
    case 'exportBackup':
      return ok(await core.exportBackup(call.file, call.secret));
    case 'checkBackupExport':
      return ok(await core.checkBackupExport(call.request));
    case 'exportBackupTo':
      return ok(await core.exportBackupTo(call.file, call.request));
    case 'restoreBackupFrom':
      return ok(await core.restoreBackupFrom(call.file, call.backupPassphrase));
    case 'close':
      await core.close();
      return ok(undefined);
    default:
      throw missingCaseError(call);
  }
}

async function start(): Promise<void> {
  const options = WorkerStart.parse(workerData);
  const { keychain, ...rest } = options;
  let core: Core;
  try {
    core = await openCore({ ...rest, ...(keychain === undefined ? {} : { keychain: keychainOverPort(keychain.port, keychain.signal) }) });
  } catch (error) {
    post({ kind: 'openFailed', error: toErrorShape(error) });
    return;
  }
  for (const event of EVENT_NAMES) core.on(event, (payload) => post({ kind: 'event', event, payload }));
  port.on('message', (message: unknown) => {
    const parsed = HostRequest.safeParse(message);
    // A request we cannot read has no id to answer; it is a bug in the host, not user input.
    if (!parsed.success) throw new Error('core-worker: unreadable request from the host');
    const { id, call } = parsed.data;
    answer(core, call)
      .catch((error: unknown) => fail(toErrorShape(error)))
      .then((result) => post({ kind: 'reply', id, result }));
  });
  post({ kind: 'opened' });
}

void start();
