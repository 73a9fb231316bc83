import { ParleyError } from '../../app/shared/errors.js';

/** The ParleyError code a synchronous action throws; undefined when it returns, a marker when it throws something else. */
export function codeOf(action: () => unknown): string | undefined {
  try {
    action();
  } catch (error) {
    return error instanceof ParleyError ? error.code : 'not a ParleyError';
  }
  return undefined;
}

/** The ParleyError code an async action rejects with; undefined when it resolves, a marker for anything else. */
export async function codeOfAsync(action: () => Promise<unknown>): Promise<string | undefined> {
  try {
    await action();
  } catch (error) {
    return error instanceof ParleyError ? error.code : `not a ParleyError: ${String(error)}`;
  }
  return undefined;
}
