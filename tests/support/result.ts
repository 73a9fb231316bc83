import type { Result } from '../../app/shared/result.js';

/** The value of an ok result; throws with the error's code and message otherwise. */
export function value<T>(result: Result<T>): T {
  if (!result.ok) throw new Error(`expected ok, got ${result.error.code}: ${result.error.message}`);
  return result.value;
}

/** The error code of a failed result, or undefined for an ok one. */
export const code = (result: Result<unknown>): string | undefined => (result.ok ? undefined : result.error.code);
