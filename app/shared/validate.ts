import { isMethodName, methods, type MethodName, type MethodParsedInput } from './contract.js';
import { ParleyError } from './errors.js';

/** Check a method name and its input against the contract; throws ParleyError with a stable code. */
export function validateInvocation(method: unknown, input: unknown): { method: MethodName; input: MethodParsedInput<MethodName> } {
  if (!isMethodName(method)) throw new ParleyError('IPC_UNKNOWN_METHOD', `Unknown method: ${String(method).slice(0, 64)}`);
  const parsed = methods[method].input.safeParse(input ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue && issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
    throw new ParleyError('VALIDATION_FAILED', `${where}${issue?.message ?? 'invalid input'}`);
  }
  return { method, input: parsed.data as MethodParsedInput<MethodName> };
}
