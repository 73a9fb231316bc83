import type { Core } from '../../core/index.js';
import type { Message } from '../../shared/domain.js';
import { ParleyError } from '../../shared/errors.js';
import type { MethodInput, MethodName, MethodOutput } from '../../shared/contract.js';

/** How long a command waits for the relay before giving up. */
export const ONLINE_TIMEOUT_MS = 15_000;
/** How long `inbox` waits for the relay to drain the offline queue. */
export const SYNC_TIMEOUT_MS = 30_000;

/** Call the core and return the value, or throw its coded error for the CLI to print. */
export async function call<M extends MethodName>(core: Core, method: M, input: MethodInput<M>): Promise<MethodOutput<M>> {
  const result = await core.invoke(method, input);
  if (!result.ok) throw new ParleyError(result.error.code, result.error.message);
  return result.value;
}

export async function unlock(core: Core, passphrase: string): Promise<void> {
  await call(core, 'profile.unlock', { passphrase });
}

export async function unlockOnline(core: Core, passphrase: string): Promise<void> {
  await unlock(core, passphrase);
  await core.whenOnline(ONLINE_TIMEOUT_MS);
}

/** Call onMessage once for each message received from a contact (delivery is at-least-once, so ids are deduped). */
export function onIncoming(core: Core, onMessage: (message: Message) => void): () => void {
  const seen = new Set<string>();
  return core.on('message.added', (message) => {
    if (message.direction !== 'in' || seen.has(message.id)) return;
    seen.add(message.id);
    onMessage(message);
  });
}

/** Call onDelivered once for each message this profile sent that its recipient has now received (a RECEIPT came back). */
export function onDelivered(core: Core, onDelivered: (message: Message) => void): () => void {
  const seen = new Set<string>();
  return core.on('message.updated', (message) => {
    if (message.direction !== 'out' || message.status !== 'delivered' || seen.has(message.id)) return;
    seen.add(message.id);
    onDelivered(message);
  });
}
