import { toHex } from '../../app/core/crypto/bytes.js';
import { randomBytes } from '../../app/core/crypto/random.js';
import { openCore, type Core } from '../../app/core/index.js';
import type { ParleyApi } from '../../app/shared/api.js';
import type { EventName, EventPayload } from '../../app/shared/contract.js';
import type { Cleanups } from './cleanups.js';

/** A fresh username per test: relay state never leaks between tests. */
export const freshUsername = (prefix: string): string => `${prefix}${toHex(randomBytes(5))}`;

/** A core over `profileDir`, closed after the test. */
export async function openTestCore(cleanups: Cleanups, profileDir: string): Promise<Core> {
  const opened = await openCore({ profileDir });
  cleanups.push(() => opened.close());
  return opened;
}

/** Resolves with the first `event` on `target` that `matches` accepts, and stops listening. */
export function nextEvent<E extends EventName>(
  target: Pick<ParleyApi, 'on'>,
  event: E,
  matches: (payload: EventPayload<E>) => boolean = () => true,
): Promise<EventPayload<E>> {
  return new Promise((resolve) => {
    const unsubscribe = target.on(event, (payload) => {
      if (!matches(payload)) return;
      unsubscribe();
      resolve(payload);
    });
  });
}
