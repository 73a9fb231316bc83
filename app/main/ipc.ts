import type { IpcMain, IpcMainInvokeEvent, WebContents } from 'electron';
import { IPC_EVENT_CHANNEL, IPC_INVOKE_CHANNEL, type ParleyApi } from '../shared/api.js';
import { EVENT_NAMES, type EventName } from '../shared/contract.js';
import { fail, toErrorShape, type Result } from '../shared/result.js';
import { validateInvocation } from '../shared/validate.js';
import { isAppUrl } from './protocol.js';

export type SenderCheck = (event: IpcMainInvokeEvent) => boolean;

/** Trust only the top frame of the main window, and only while it shows the app's own pages. */
export function mainFrameOf(getContents: () => WebContents | null): SenderCheck {
  return (event) => {
    const contents = getContents();
    const frame = event.senderFrame;
    if (contents === null || contents.isDestroyed() || frame === null) return false;
    return event.sender === contents && frame === contents.mainFrame && isAppUrl(frame.url);
  };
}

/** Validate sender and input, then hand the call to the core; every outcome is a Result, nothing throws across IPC. */
export async function handleInvocation(
  api: ParleyApi,
  isTrustedSender: SenderCheck,
  event: IpcMainInvokeEvent,
  method: unknown,
  input: unknown,
): Promise<Result<unknown>> {
  if (!isTrustedSender(event)) {
    return fail({ code: 'IPC_FORBIDDEN_SENDER', message: 'Calls are accepted only from the Parley window' });
  }
  try {
    const call = validateInvocation(method, input);
    return await api.invoke(call.method, call.input);
  } catch (error) {
    return fail(toErrorShape(error));
  }
}

export function registerIpcHandlers(ipcMain: Pick<IpcMain, 'handle'>, api: ParleyApi, isTrustedSender: SenderCheck): void {
  ipcMain.handle(IPC_INVOKE_CHANNEL, (event, method: unknown, input: unknown) =>
    handleInvocation(api, isTrustedSender, event, method, input),
  );
}

/** Push every contract event to the window currently shown; returns a function that stops forwarding. */
export function forwardEvents(api: ParleyApi, getContents: () => WebContents | null): () => void {
  const send = (name: EventName, payload: unknown): void => {
    const contents = getContents();
    if (contents !== null && !contents.isDestroyed()) contents.send(IPC_EVENT_CHANNEL, name, payload);
  };
  const unsubscribes = EVENT_NAMES.map((name) => api.on(name, (payload) => send(name, payload)));
  return () => {
    for (const unsubscribe of unsubscribes) unsubscribe();
  };
}
