import { ParleyError, type ParleyErrorShape } from './errors.js';

/** What crosses a boundary: a value or a coded error, never a thrown exception. */
export type Result<T> = { ok: true; value: T } | { ok: false; error: ParleyErrorShape };

export function ok<T>(value: T): Result<T> {
  return { ok: true, value };
}

export function fail<T = never>(error: ParleyErrorShape): Result<T> {
  return { ok: false, error };
}

/** Turn anything thrown into a coded error; unknown failures become INTERNAL without leaking their text. */
export function toErrorShape(error: unknown): ParleyErrorShape {
  if (error instanceof ParleyError) return error.toJSON();
  return { code: 'INTERNAL', message: 'An internal error occurred' };
}
