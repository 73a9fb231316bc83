import { MAX_ENVELOPE_BYTES, MAX_FRAME_BYTES } from '../protocol/index.js';
import { addressFilter, clientAddress } from './client-address.js';
import { FALLBACK_MAX_CONNECTIONS, RESERVED_DESCRIPTORS, openFilesLimit } from './descriptor-limit.js';
import { MAX_TABLE_IDS } from './store/delivered-id-table.js';
import { DEFAULT_MAX_DELIVERED_IDS } from './store/delivered-ids.js';
import type { TlsPaths } from './tls.js';

/** A budget of `points` actions per window of `durationMs`, per key (an IP or an identity). */
export interface RateLimit {
  readonly points: number;
  readonly durationMs: number;
}

/** The rate-limited actions, each with its own budget. */
export interface RateLimits {
  /** New WebSocket connections per client IP. Default 60 per minute. */
  readonly connections: RateLimit;
  /** SEND and SEND_EXPIRING per authenticated user. Default 50 per second. */
  readonly messages: RateLimit;
  /** REGISTER attempts that would create a new username, per client IP. Default 10 per hour. */
  readonly registrations: RateLimit;
  /** Registration-lock codes tried (TOTP_ENABLE, TOTP_DISABLE, REGISTER_LOCKED), per username. Default 5 per 15 minutes. */
  readonly totp: RateLimit;
  /** LOOKUP (a username's keys) per authenticated user, so the directory cannot be walked name by name. Default 200 per 15 minutes. */
  readonly lookups: RateLimit;
  /**
   * FETCH_PREKEYS per authenticated user and target: each hands out one of the target's one-time keys, so one account
   * cannot drain another's stock. Default 6 per 10 minutes (FETCH_PREKEYS also counts against `messages`).
   */
  readonly prekeyFetches: RateLimit;
  /** TOKEN_REQUEST, PUBLISH_* and TOTP_SETUP per authenticated user: each signs or writes. Default 60 per minute. */
  readonly requests: RateLimit;
  /**
   * HTTP requests to /v1/ (blobs, whoami) per client IP, counted before the Bearer token is checked: forged tokens
   * cost a signature check each. The probes and /metrics are not counted. Default 600 per minute.
   */
  readonly http: RateLimit;
}

export type RateLimitName = keyof RateLimits;

export type RegistrationMode = 'open' | 'invite';

/** pino's levels, plus 'silent' (tests). */
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

/** Every limit of the relay, each with its default. docs/RELAY.md has the same table. */
export interface RelayOptions {
  /** Folder holding the SQLite database; created if missing. */
  dataDir: string;
  /** Interface to listen on. Default '127.0.0.1'. */
  host?: string;
  /** TCP port. Default 7733; 0 picks a free port. */
  port?: number;
  /**
   * Reverse proxies in front of the relay whose X-Forwarded-For header is believed: addresses, CIDR ranges, or the
   * names loopback, linklocal, uniquelocal. The per-IP limits then count the client's address, not the proxy's.
   * Default: none (the header is ignored and every limit counts the socket's address).
   */
  trustedProxies?: readonly string[];
  /**
   * Who may read /metrics (its counts tell when people are active): addresses, CIDR ranges, or the names loopback,
   * linklocal, uniquelocal, checked against the client's address (behind trustedProxies, the one they forwarded for).
   * Default: loopback and uniquelocal (private networks); others get 403. ['0.0.0.0/0', '::/0'] lets anyone.
   */
  metricsFrom?: readonly string[];
  /** PEM certificate chain file: with tlsKeyPath, serve wss:// and https:// directly. Default: none (plain, e.g. behind a proxy). */
  tlsCertPath?: string;
  /** PEM private key file for tlsCertPath. */
  tlsKeyPath?: string;
  /** How often the certificate and key are read again, so a renewed certificate is served without a restart (SIGHUP: at once). Default 3600000 (an hour); 0: only on SIGHUP. */
  tlsReloadIntervalMs?: number;
  /** Largest frame accepted from a client, in bytes (also the ws maxPayload). Default MAX_FRAME_BYTES (256 KiB). */
  maxFrameBytes?: number;
  /** Unauthenticated sockets are closed after this many milliseconds. Default 10_000. */
  authTimeoutMs?: number;
  /**
   * A new TCP connection must send the headers of its first request (the WebSocket upgrade, or an HTTP request) within
   * this many milliseconds, or it is dropped; later requests on a kept-alive connection get as long for theirs.
   * Default 10_000, at most 300_000 (Node's time for a whole request).
   */
  handshakeTimeoutMs?: number;
  /** TCP connections from one address still waiting to send their first request; past it new ones are dropped at once. Trusted proxies are not counted. Default 32. */
  maxHandshakesPerIp?: number;
  /** Envelopes a single user may have waiting in the queue. Default 10_000. */
  maxQueuedPerUser?: number;
  /** Bytes of envelopes a single user may have waiting in the queue. Default 256 MiB. */
  maxQueuedBytesPerUser?: number;
  /** Envelopes waiting longer than this are purged unread. Default 30 days. */
  maxQueueAgeMs?: number;
  /** How often expired envelopes (by age or by their own ttl) are purged. Default 60_000. */
  purgeIntervalMs?: number;
  /**
   * How long the ids of delivered envelopes are remembered, so a retry of one (a SEND whose OK was lost) is dropped
   * rather than delivered again. Default 7 days.
   */
  deliveredMemoryMs?: number;
  /** At most this many delivered ids are remembered (in memory, about 40 bytes each); the oldest go first. Default 500_000, at most 100_000_000. */
  maxDeliveredIds?: number;
  /** Longest ttl a SEND_EXPIRING may ask for; also bounded by maxQueueAgeMs. Default 30 days. */
  maxTtlMs?: number;
  /** The relay pings every socket this often; one that has not answered the previous ping is cut off. Default 30_000. */
  pingIntervalMs?: number;
  /** A socket with more than this many bytes waiting to be sent to it is cut off as a slow reader. Default 8 MiB. */
  maxBufferedBytes?: number;
  /**
   * How long an envelope pushed to an online recipient waits for the recipient's ACK before it is written to the
   * queue anyway; acked in time, it is never written. The sender's OK waits for one or the other. Default 25.
   */
  holdMs?: number;
  /** Frames read from one socket and not yet handled; past this the relay stops reading that socket. Default 64. */
  maxPipelinedFrames?: number;
  /** Open sockets per client IP. Default 32. */
  maxConnectionsPerIp?: number;
  /**
   * TCP connections the relay holds at once (WebSocket clients, sockets before their first request, HTTP); past it a new
   * one is closed as it arrives. Default: what the process's descriptor limit leaves after RESERVED_DESCRIPTORS for the
   * relay's own files (10,000 where the limit cannot be read); more than that is refused.
   */
  maxConnections?: number;
  /** 'open': anyone may register; 'invite': REGISTER_INVITE with an operator's invite code only. Default 'open'. */
  registration?: RegistrationMode;
  /** The `aud` of this relay's access tokens; tokens for another audience are refused. Default 'parley-relay'. */
  tokenAudience?: string;
  /** Lifetime of an access token. Default 900_000 (15 minutes). */
  tokenTtlMs?: number;
  /** Largest attachment blob accepted by PUT /v1/blobs, in bytes. Default 25 MiB. */
  maxBlobBytes?: number;
  /** Bytes of unexpired blobs one user may keep on the relay. Default 1 GiB. */
  maxBlobBytesPerUser?: number;
  /** Blobs are deleted this long after upload. Default 30 days. */
  blobTtlMs?: number;
  /**
   * Blob uploads and downloads in progress at once, all users together; each holds a file open from the descriptors
   * kept beside the connections, so at most MAX_BLOB_TRANSFERS. Past it: 503 RELAY_BUSY. Default 128.
   */
  maxBlobTransfers?: number;
  /** Blob uploads and downloads one user may have in progress at once; past it: 429 TOO_MANY_TRANSFERS. Default 8. */
  maxBlobTransfersPerUser?: number;
  /** A blob upload or download with no bytes moving for this long is cut off (its place freed). Default 60_000. */
  blobIdleTimeoutMs?: number;
  /**
   * The database file never grows past this many bytes (its write-ahead log and the blobs' files aside): past it, writes
   * are refused with STORAGE_FULL, as on a full disk. Default 0: no cap but the disk's.
   */
  maxDatabaseBytes?: number;
  /** Rate limits; each field replaces that limit's default. */
  rateLimits?: Partial<RateLimits>;
  /** Log threshold for the JSON log on stderr. Default 'info'. */
  logLevel?: LogLevel;
  /** Log a salted hash of usernames instead of the names. Default false. */
  hashUsernames?: boolean;
  /** The relay's clock, in ms since the epoch (tests move it). Default Date.now. */
  now?: () => number;
}

export type ResolvedRelayOptions = Required<Omit<RelayOptions, 'rateLimits' | 'tlsCertPath' | 'tlsKeyPath' | 'tlsReloadIntervalMs'>> & {
  readonly rateLimits: RateLimits;
  /** Both paths, or undefined for plain ws://. */
  readonly tls: (TlsPaths & { readonly reloadIntervalMs: number }) | undefined;
  /** How many descriptors the process may open, when that can be read. */
  readonly descriptorLimit: number | undefined;
};

export const DEFAULT_HOST = '127.0.0.1';
export const DEFAULT_PORT = 7733;
export const DEFAULT_AUTH_TIMEOUT_MS = 10_000;
export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000;
/** Node's requestTimeout: the time for a whole request, which the time for its headers may not exceed. */
export const MAX_HANDSHAKE_TIMEOUT_MS = 300_000;
export const DEFAULT_MAX_HANDSHAKES_PER_IP = 32;
export const DEFAULT_MAX_QUEUED_PER_USER = 10_000;
export const DEFAULT_MAX_QUEUED_BYTES_PER_USER = 256 * 1024 * 1024;
export const DAY_MS = 24 * 60 * 60 * 1000;
export const DEFAULT_MAX_QUEUE_AGE_MS = 30 * DAY_MS;
export const DEFAULT_PURGE_INTERVAL_MS = 60_000;
export const DEFAULT_PING_INTERVAL_MS = 30_000;
export const DEFAULT_MAX_BUFFERED_BYTES = 8 * 1024 * 1024;
export const DEFAULT_MAX_PIPELINED_FRAMES = 64;
export const DEFAULT_HOLD_MS = 25;
export const DEFAULT_DELIVERED_MEMORY_MS = 7 * DAY_MS;
export const DEFAULT_MAX_BLOB_BYTES_PER_USER = 1024 * 1024 * 1024;
export const DEFAULT_MAX_BLOB_TRANSFERS = 128;
/** The descriptors kept for the relay's files, less 64 for its database, certificates and Node's own. */
export const MAX_BLOB_TRANSFERS = RESERVED_DESCRIPTORS - 64;
export const DEFAULT_MAX_BLOB_TRANSFERS_PER_USER = 8;
export const DEFAULT_BLOB_IDLE_TIMEOUT_MS = 60_000;
export const DEFAULT_MAX_CONNECTIONS_PER_IP = 32;
export const DEFAULT_RATE_LIMITS: RateLimits = {
  connections: { points: 60, durationMs: 60_000 },
  messages: { points: 50, durationMs: 1_000 },
  registrations: { points: 10, durationMs: 60 * 60_000 },
  totp: { points: 5, durationMs: 15 * 60_000 },
  lookups: { points: 200, durationMs: 15 * 60_000 },
  prekeyFetches: { points: 6, durationMs: 10 * 60_000 },
  requests: { points: 60, durationMs: 60_000 },
  http: { points: 600, durationMs: 60_000 },
};
export const DEFAULT_MAX_BLOB_BYTES = 25 * 1024 * 1024;
export const DEFAULT_TOKEN_AUDIENCE = 'parley-relay';
/** Monitoring on this machine or a private network; not the internet. */
export const DEFAULT_METRICS_FROM: readonly string[] = ['loopback', 'uniquelocal'];
export const DEFAULT_TOKEN_TTL_MS = 15 * 60_000;
export const DEFAULT_TLS_RELOAD_INTERVAL_MS = 60 * 60_000;
export const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** Room for a SEND header and recipient name around the largest envelope. */
const MIN_FRAME_BYTES = MAX_ENVELOPE_BYTES + 2048;
const MAX_TIMER_MS = 2 ** 31 - 1;
/** ttlMs travels as a u32. */
const MAX_U32 = 0xffffffff;

function integerIn(name: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`${name} must be an integer from ${min} to ${max}, got ${value}`);
  }
  return value;
}

/** Checked here so a typo stops the relay at start, not at the first request. */
function trustedProxies(value: readonly string[]): readonly string[] {
  if (!Array.isArray(value) || value.some((item) => typeof item !== 'string')) throw new RangeError('trustedProxies must be a list of strings');
  clientAddress(value);
  return value;
}

function metricsFrom(value: readonly string[]): readonly string[] {
  if (!Array.isArray(value) || value.some((item) => typeof item !== 'string')) throw new RangeError('metricsFrom must be a list of strings');
  addressFilter('metricsFrom', value);
  return value;
}

function nonEmpty(name: string, value: unknown): string {
  if (typeof value !== 'string' || value === '') throw new RangeError(`${name} must be a non-empty string`);
  return value;
}

function rateLimit(name: RateLimitName, value: RateLimit | undefined): RateLimit {
  const limit: unknown = value ?? DEFAULT_RATE_LIMITS[name];
  if (typeof limit !== 'object' || limit === null || !('points' in limit) || !('durationMs' in limit)) {
    throw new RangeError(`rateLimits.${name} must be { points, durationMs }`);
  }
  if (typeof limit.points !== 'number' || typeof limit.durationMs !== 'number') {
    throw new RangeError(`rateLimits.${name} points and durationMs must be numbers`);
  }
  return {
    points: integerIn(`rateLimits.${name}.points`, limit.points, 1, 2 ** 31 - 1),
    durationMs: integerIn(`rateLimits.${name}.durationMs`, limit.durationMs, 1, MAX_TIMER_MS),
  };
}

/** ws://host:port, or wss:// when the relay terminates TLS itself; an IPv6 host in brackets. */
export function relayUrl(resolved: Pick<ResolvedRelayOptions, 'host' | 'tls'>, port: number): string {
  const host = resolved.host.includes(':') ? `[${resolved.host}]` : resolved.host;
  return `${resolved.tls === undefined ? 'ws' : 'wss'}://${host}:${port}`;
}

/** maxConnections: the default the descriptor limit leaves room for, or the operator's if it fits. */
function maxConnections(asked: number | undefined, descriptorLimit: number | undefined): number {
  if (descriptorLimit === undefined) return integerIn('maxConnections', asked ?? FALLBACK_MAX_CONNECTIONS, 1, 2 ** 31 - 1);
  const room = descriptorLimit - RESERVED_DESCRIPTORS;
  const raise = 'raise the limit (LimitNOFILE in a systemd unit, --ulimit nofile= for Docker, ulimit -n in a shell)';
  if (room < 1) throw new RangeError(`this process may open only ${descriptorLimit} files, and the relay keeps ${RESERVED_DESCRIPTORS} for its own: ${raise}`);
  if (asked === undefined) return room;
  const resolved = integerIn('maxConnections', asked, 1, 2 ** 31 - 1);
  if (resolved > room) {
    throw new RangeError(
      `maxConnections ${resolved} is more than this process's ${descriptorLimit} open files leave beside the ${RESERVED_DESCRIPTORS} the relay keeps for its own (${room}): ${raise}, or lower maxConnections`,
    );
  }
  return resolved;
}

/** Fill in defaults and reject values the relay cannot run with. Throws RangeError. */
export function resolveOptions(options: RelayOptions, readDescriptorLimit: () => number | undefined = openFilesLimit): ResolvedRelayOptions {
  const descriptorLimit = readDescriptorLimit();
  if (typeof options.dataDir !== 'string' || options.dataDir === '') throw new RangeError('dataDir is required');
  const host = options.host ?? DEFAULT_HOST;
  if (typeof host !== 'string' || host === '') throw new RangeError('host must be a non-empty string');
  const { tlsCertPath, tlsKeyPath } = options;
  if ((tlsCertPath === undefined) !== (tlsKeyPath === undefined)) throw new RangeError('tlsCertPath and tlsKeyPath go together');
  if (typeof options.hashUsernames !== 'boolean' && options.hashUsernames !== undefined) throw new RangeError('hashUsernames must be true or false');
  const registration = options.registration ?? 'open';
  if (registration !== 'open' && registration !== 'invite') throw new RangeError(`registration must be open or invite, got ${String(registration)}`);
  const logLevel = options.logLevel ?? 'info';
  if (!LOG_LEVELS.includes(logLevel)) throw new RangeError(`logLevel must be one of ${LOG_LEVELS.join(', ')}, got ${String(logLevel)}`);
  const limits = options.rateLimits ?? {};
  const maxQueueAgeMs = integerIn('maxQueueAgeMs', options.maxQueueAgeMs ?? DEFAULT_MAX_QUEUE_AGE_MS, 1, Number.MAX_SAFE_INTEGER);
  return {
    dataDir: options.dataDir,
    host,
    port: integerIn('port', options.port ?? DEFAULT_PORT, 0, 65_535),
    // Clients never accept frames over MAX_FRAME_BYTES, so the relay may only lower the limit.
    maxFrameBytes: integerIn('maxFrameBytes', options.maxFrameBytes ?? MAX_FRAME_BYTES, MIN_FRAME_BYTES, MAX_FRAME_BYTES),
    authTimeoutMs: integerIn('authTimeoutMs', options.authTimeoutMs ?? DEFAULT_AUTH_TIMEOUT_MS, 1, MAX_TIMER_MS),
    handshakeTimeoutMs: integerIn('handshakeTimeoutMs', options.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS, 1, MAX_HANDSHAKE_TIMEOUT_MS),
    maxHandshakesPerIp: integerIn('maxHandshakesPerIp', options.maxHandshakesPerIp ?? DEFAULT_MAX_HANDSHAKES_PER_IP, 1, 2 ** 31 - 1),
    maxQueuedPerUser: integerIn('maxQueuedPerUser', options.maxQueuedPerUser ?? DEFAULT_MAX_QUEUED_PER_USER, 1, 2 ** 31 - 1),
    maxQueuedBytesPerUser: integerIn(
      'maxQueuedBytesPerUser',
      options.maxQueuedBytesPerUser ?? DEFAULT_MAX_QUEUED_BYTES_PER_USER,
      1,
      Number.MAX_SAFE_INTEGER,
    ),
    maxQueueAgeMs,
    purgeIntervalMs: integerIn('purgeIntervalMs', options.purgeIntervalMs ?? DEFAULT_PURGE_INTERVAL_MS, 1, MAX_TIMER_MS),
    deliveredMemoryMs: integerIn('deliveredMemoryMs', options.deliveredMemoryMs ?? DEFAULT_DELIVERED_MEMORY_MS, 0, Number.MAX_SAFE_INTEGER),
    maxDeliveredIds: integerIn('maxDeliveredIds', options.maxDeliveredIds ?? DEFAULT_MAX_DELIVERED_IDS, 0, MAX_TABLE_IDS),
    maxTtlMs: integerIn('maxTtlMs', options.maxTtlMs ?? Math.min(DEFAULT_MAX_QUEUE_AGE_MS, MAX_U32), 1, MAX_U32),
    pingIntervalMs: integerIn('pingIntervalMs', options.pingIntervalMs ?? DEFAULT_PING_INTERVAL_MS, 1, MAX_TIMER_MS),
    maxBufferedBytes: integerIn('maxBufferedBytes', options.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES, MIN_FRAME_BYTES, Number.MAX_SAFE_INTEGER),
    holdMs: integerIn('holdMs', options.holdMs ?? DEFAULT_HOLD_MS, 0, 1_000),
    maxPipelinedFrames: integerIn('maxPipelinedFrames', options.maxPipelinedFrames ?? DEFAULT_MAX_PIPELINED_FRAMES, 1, 1_000_000),
    maxConnectionsPerIp: integerIn('maxConnectionsPerIp', options.maxConnectionsPerIp ?? DEFAULT_MAX_CONNECTIONS_PER_IP, 1, 2 ** 31 - 1),
    maxConnections: maxConnections(options.maxConnections, descriptorLimit),
    descriptorLimit,
    rateLimits: {
      connections: rateLimit('connections', limits.connections),
      messages: rateLimit('messages', limits.messages),
      registrations: rateLimit('registrations', limits.registrations),
      totp: rateLimit('totp', limits.totp),
      lookups: rateLimit('lookups', limits.lookups),
      prekeyFetches: rateLimit('prekeyFetches', limits.prekeyFetches),
      requests: rateLimit('requests', limits.requests),
      http: rateLimit('http', limits.http),
    },
    tls:
      tlsCertPath === undefined || tlsKeyPath === undefined
        ? undefined
        : {
            certPath: String(tlsCertPath),
            keyPath: String(tlsKeyPath),
            reloadIntervalMs: integerIn('tlsReloadIntervalMs', options.tlsReloadIntervalMs ?? DEFAULT_TLS_RELOAD_INTERVAL_MS, 0, MAX_TIMER_MS),
          },
    registration,
    trustedProxies: trustedProxies(options.trustedProxies ?? []),
    metricsFrom: metricsFrom(options.metricsFrom ?? DEFAULT_METRICS_FROM),
    tokenAudience: nonEmpty('tokenAudience', options.tokenAudience ?? DEFAULT_TOKEN_AUDIENCE),
    tokenTtlMs: integerIn('tokenTtlMs', options.tokenTtlMs ?? DEFAULT_TOKEN_TTL_MS, 1_000, DAY_MS),
    maxBlobBytes: integerIn('maxBlobBytes', options.maxBlobBytes ?? DEFAULT_MAX_BLOB_BYTES, 1, Number.MAX_SAFE_INTEGER),
    maxBlobBytesPerUser: integerIn('maxBlobBytesPerUser', options.maxBlobBytesPerUser ?? DEFAULT_MAX_BLOB_BYTES_PER_USER, 1, Number.MAX_SAFE_INTEGER),
    maxBlobTransfers: integerIn('maxBlobTransfers', options.maxBlobTransfers ?? DEFAULT_MAX_BLOB_TRANSFERS, 1, MAX_BLOB_TRANSFERS),
    maxBlobTransfersPerUser: integerIn('maxBlobTransfersPerUser', options.maxBlobTransfersPerUser ?? DEFAULT_MAX_BLOB_TRANSFERS_PER_USER, 1, MAX_BLOB_TRANSFERS),
    blobIdleTimeoutMs: integerIn('blobIdleTimeoutMs', options.blobIdleTimeoutMs ?? DEFAULT_BLOB_IDLE_TIMEOUT_MS, 1, MAX_TIMER_MS),
    blobTtlMs: integerIn('blobTtlMs', options.blobTtlMs ?? DEFAULT_MAX_QUEUE_AGE_MS, 1, Number.MAX_SAFE_INTEGER),
    maxDatabaseBytes: integerIn('maxDatabaseBytes', options.maxDatabaseBytes ?? 0, 0, Number.MAX_SAFE_INTEGER),
    logLevel,
    hashUsernames: options.hashUsernames ?? false,
    now: options.now ?? Date.now,
  };
}
