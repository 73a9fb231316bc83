/** For the default branch of an exhaustive switch: a compile error if a case is missing, a throw if one slips by at runtime. */
export function missingCaseError(value: never): Error {
  return new Error(`unhandled case: ${JSON.stringify(value)}`);
}
