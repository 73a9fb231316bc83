import { MAX_ENVELOPE_BYTES, MAX_FRAME_BYTES } from '../protocol/index.js';

/** Every limit of the relay, each with its default. */
export interface RelayOptions {
  /** Folder holding the SQLite database; created if missing. */
  dataDir: string;
  /** Interface to listen on. Default '127.0.0.1'. */
  host?: string;
  /** TCP port. Default 7733; 0 picks a free port. */
  port?: number;
  /** Largest frame accepted from a client, in bytes (also the ws maxPayload). Default MAX_FRAME_BYTES (256 KiB). */
  maxFrameBytes?: number;
  /** Unauthenticated sockets are closed after this many milliseconds. Default 10_000. */
  authTimeoutMs?: number;
  /** Envelopes a single user may have waiting in the queue. Default 10_000. */
  maxQueuedPerUser?: number;
}

export type ResolvedRelayOptions = Required<RelayOptions>;

export const DEFAULT_HOST = '127.0.0.1';
export const DEFAULT_PORT = 7733;
export const DEFAULT_AUTH_TIMEOUT_MS = 10_000;
export const DEFAULT_MAX_QUEUED_PER_USER = 10_000;

/** Room for a SEND header and recipient name around the largest envelope. */
const MIN_FRAME_BYTES = MAX_ENVELOPE_BYTES + 2048;

function integerIn(name: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`${name} must be an integer from ${min} to ${max}, got ${value}`);
  }
  return value;
}

/** Fill in defaults and reject values the relay cannot run with. Throws RangeError. */
export function resolveOptions(options: RelayOptions): ResolvedRelayOptions {
  if (typeof options.dataDir !== 'string' || options.dataDir === '') throw new RangeError('dataDir is required');
  const host = options.host ?? DEFAULT_HOST;
  if (host === '') throw new RangeError('host must not be empty');
  return {
    dataDir: options.dataDir,
    host,
    port: integerIn('port', options.port ?? DEFAULT_PORT, 0, 65_535),
    // Clients never accept frames over MAX_FRAME_BYTES, so the relay may only lower the limit.
    maxFrameBytes: integerIn('maxFrameBytes', options.maxFrameBytes ?? MAX_FRAME_BYTES, MIN_FRAME_BYTES, MAX_FRAME_BYTES),
    authTimeoutMs: integerIn('authTimeoutMs', options.authTimeoutMs ?? DEFAULT_AUTH_TIMEOUT_MS, 1, 2 ** 31 - 1),
    maxQueuedPerUser: integerIn('maxQueuedPerUser', options.maxQueuedPerUser ?? DEFAULT_MAX_QUEUED_PER_USER, 1, 2 ** 31 - 1),
  };
}
