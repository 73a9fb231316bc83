/** What a log line may carry: identifiers, codes and counts. No byte fields, so keys and envelopes cannot slip in. */
export type LogFields = Readonly<Record<string, string | number | boolean>>;

/** Every event the relay logs (docs/RELAY.md describes each): operators search and alert on these names. */
export const LOG_EVENTS = [
  // The process.
  'relay_started',
  'relay_stopping',
  'relay_stopped',
  'relay_stop_failed',
  'server_error',
  'internal_error',
  // Its certificate.
  'tls_reloaded',
  'tls_reload_failed',
  'reload_skipped',
  // Connections and what they send.
  'authenticated',
  'auth_failed',
  'registration_limited',
  'frame_rejected',
  'socket_error',
  'send_failed',
  'idle_cut_off',
  'slow_reader_cut_off',
  'connections_full',
  'drain_failed',
  // Attachments over HTTP, and /metrics.
  'blob_failed',
  'blob_transfer_cut',
  'metrics_failed',
  // Storage.
  'queue_purged',
  'purge_failed',
  'storage_full',
  'checkpoint_failed',
  'checkpointer_failed',
] as const;

export type LogEvent = (typeof LOG_EVENTS)[number];

export type Log = (event: LogEvent, fields?: LogFields) => void;

/** A log that drops everything. */
export const silentLog: Log = () => undefined;

/** Name and message of a thrown value, shortened: enough to debug, never a payload. */
export function describeError(error: unknown): LogFields {
  if (error instanceof Error) return { error: error.name, detail: error.message.slice(0, 200) };
  return { error: typeof error };
}
