/** What a log line may carry: identifiers, codes and counts. No byte fields, so keys and envelopes cannot slip in. */
export type LogFields = Readonly<Record<string, string | number | boolean>>;

export type Log = (event: string, fields?: LogFields) => void;

/** A log that drops everything. */
export const silentLog: Log = () => undefined;

/** Name and message of a thrown value, shortened: enough to debug, never a payload. */
export function describeError(error: unknown): LogFields {
  if (error instanceof Error) return { error: error.name, detail: error.message.slice(0, 200) };
  return { error: typeof error };
}
