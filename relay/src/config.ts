import { parseArgs } from 'node:util';
import { LOG_LEVELS, type LogLevel, type RateLimit, type RateLimitName, type RelayOptions } from './options.js';

/** How a setting's text (a flag or an environment variable) becomes a value. */
type Kind = 'string' | 'integer' | 'boolean' | 'level' | 'rate' | 'list';

interface Setting {
  /** The RelayOptions field, or rateLimits.NAME. */
  readonly key: keyof RelayOptions | `rateLimits.${RateLimitName}`;
  readonly flag: string;
  readonly kind: Kind;
  readonly help: string;
}

/** Every setting: a flag --FLAG, an environment variable PARLEY_RELAY_FLAG_IN_CAPITALS, and a config-file key. */
export const SETTINGS: readonly Setting[] = [
  { key: 'dataDir', flag: 'data', kind: 'string', help: 'folder for the database and keys (required)' },
  { key: 'host', flag: 'host', kind: 'string', help: 'address to listen on (127.0.0.1)' },
  { key: 'port', flag: 'port', kind: 'integer', help: 'port to listen on (7733; 0: any free port)' },
  { key: 'tlsCertPath', flag: 'tls-cert', kind: 'string', help: 'PEM certificate chain: serve wss:// and https:// (with --tls-key)' },
  { key: 'tlsKeyPath', flag: 'tls-key', kind: 'string', help: 'PEM private key for --tls-cert' },
  { key: 'tlsReloadIntervalMs', flag: 'tls-reload-interval-ms', kind: 'integer', help: 'how often the certificate and key are read again (3600000; 0: only on SIGHUP)' },
  { key: 'trustedProxies', flag: 'trusted-proxies', kind: 'list', help: 'proxies whose X-Forwarded-For is believed: addresses, CIDR, loopback (none)' },
  { key: 'metricsFrom', flag: 'metrics-from', kind: 'list', help: 'who may read /metrics: addresses, CIDR, loopback, uniquelocal (loopback,uniquelocal)' },
  { key: 'registration', flag: 'registration', kind: 'string', help: 'open, or invite: new users need an invite code (open)' },
  { key: 'tokenAudience', flag: 'token-audience', kind: 'string', help: 'aud of access tokens (parley-relay)' },
  { key: 'tokenTtlMs', flag: 'token-ttl-ms', kind: 'integer', help: 'access token lifetime (900000)' },
  { key: 'logLevel', flag: 'log-level', kind: 'level', help: `${LOG_LEVELS.join('|')} (info)` },
  { key: 'hashUsernames', flag: 'hash-usernames', kind: 'boolean', help: 'log a salted hash instead of usernames (false)' },
  { key: 'maxFrameBytes', flag: 'max-frame-bytes', kind: 'integer', help: 'largest frame accepted (262144)' },
  { key: 'authTimeoutMs', flag: 'auth-timeout-ms', kind: 'integer', help: 'unauthenticated sockets closed after (10000)' },
  { key: 'handshakeTimeoutMs', flag: 'handshake-timeout-ms', kind: 'integer', help: 'new sockets without a request by then are dropped (10000)' },
  { key: 'maxHandshakesPerIp', flag: 'max-handshakes-per-ip', kind: 'integer', help: 'sockets per client address still before their first request (32)' },
  { key: 'pingIntervalMs', flag: 'ping-interval-ms', kind: 'integer', help: 'ping interval; no pong by the next: cut off (30000)' },
  { key: 'maxBufferedBytes', flag: 'max-buffered-bytes', kind: 'integer', help: 'unsent bytes before a slow reader is cut off (8388608)' },
  { key: 'holdMs', flag: 'hold-ms', kind: 'integer', help: 'how long a pushed envelope waits for its ACK before it is written anyway (25; up to 8 times that while recipients ack later)' },
  { key: 'maxPipelinedFrames', flag: 'max-pipelined-frames', kind: 'integer', help: 'unhandled frames before a socket stops being read (64)' },
  { key: 'maxConnectionsPerIp', flag: 'max-connections-per-ip', kind: 'integer', help: 'open sockets per client address (32)' },
  { key: 'maxConnections', flag: 'max-connections', kind: 'integer', help: 'TCP connections held at once (the descriptor limit less 256)' },
  { key: 'maxQueuedPerUser', flag: 'max-queued-per-user', kind: 'integer', help: 'envelopes waiting per user (10000)' },
  { key: 'maxQueuedBytesPerUser', flag: 'max-queued-bytes-per-user', kind: 'integer', help: 'bytes waiting per user (268435456)' },
  { key: 'maxQueueAgeMs', flag: 'max-queue-age-ms', kind: 'integer', help: 'envelopes older than this are purged (2592000000: 30 days)' },
  { key: 'maxTtlMs', flag: 'max-ttl-ms', kind: 'integer', help: 'longest SEND_EXPIRING ttl (2592000000)' },
  { key: 'purgeIntervalMs', flag: 'purge-interval-ms', kind: 'integer', help: 'how often expired envelopes are purged (60000)' },
  { key: 'deliveredMemoryMs', flag: 'delivered-memory-ms', kind: 'integer', help: 'delivered ids remembered to drop retries (604800000: 7 days)' },
  { key: 'maxDeliveredIds', flag: 'max-delivered-ids', kind: 'integer', help: 'most delivered ids remembered, ~40 bytes each (500000; at most 100000000)' },
  { key: 'maxBlobBytes', flag: 'max-blob-bytes', kind: 'integer', help: 'largest attachment blob (26214400)' },
  { key: 'maxBlobBytesPerUser', flag: 'max-blob-bytes-per-user', kind: 'integer', help: 'bytes of unexpired blobs one user may keep (1073741824)' },
  { key: 'blobTtlMs', flag: 'blob-ttl-ms', kind: 'integer', help: 'blobs are deleted after (2592000000)' },
  { key: 'maxBlobTransfers', flag: 'max-blob-transfers', kind: 'integer', help: 'blob uploads and downloads in progress at once, all users (128; at most 192)' },
  { key: 'maxBlobTransfersPerUser', flag: 'max-blob-transfers-per-user', kind: 'integer', help: 'blob uploads and downloads one user may have in progress (8)' },
  { key: 'blobIdleTimeoutMs', flag: 'blob-idle-timeout-ms', kind: 'integer', help: 'a blob upload or download with no bytes moving this long is cut off (60000)' },
  { key: 'maxDatabaseBytes', flag: 'max-database-bytes', kind: 'integer', help: 'the database never grows past this; writes past it get STORAGE_FULL (0: no cap)' },
  { key: 'rateLimits.connections', flag: 'rate-connections', kind: 'rate', help: 'new connections per IP, POINTS/MS (60/60000)' },
  { key: 'rateLimits.messages', flag: 'rate-messages', kind: 'rate', help: 'SENDs per user, POINTS/MS (50/1000)' },
  { key: 'rateLimits.registrations', flag: 'rate-registrations', kind: 'rate', help: 'new usernames per IP, POINTS/MS (10/3600000)' },
  { key: 'rateLimits.totp', flag: 'rate-totp', kind: 'rate', help: 'registration-lock codes per user, POINTS/MS (5/900000)' },
  { key: 'rateLimits.lookups', flag: 'rate-lookups', kind: 'rate', help: 'username lookups per user, POINTS/MS (200/900000)' },
  { key: 'rateLimits.prekeyFetches', flag: 'rate-prekey-fetches', kind: 'rate', help: 'prekey bundles per user and target, POINTS/MS (6/600000)' },
  { key: 'rateLimits.requests', flag: 'rate-requests', kind: 'rate', help: 'token requests, prekey publishes and TOTP setups per user, POINTS/MS (60/60000)' },
  { key: 'rateLimits.http', flag: 'rate-http', kind: 'rate', help: 'HTTP requests to /v1/ per IP, POINTS/MS (600/60000)' },
];

export function envName(flag: string): string {
  return `PARLEY_RELAY_${flag.toUpperCase().replaceAll('-', '_')}`;
}

export const CONFIG_ENV = 'PARLEY_RELAY_CONFIG';

export function usage(): string {
  const rows = SETTINGS.map((s) => `  --${s.flag.padEnd(26)} ${envName(s.flag).padEnd(40)} ${s.help}`);
  return [
    'usage: relay --data DIR [options]',
    '       relay --check --data DIR [options]   check the settings, certificate and data folder as a start would, then exit',
    '       relay --version',
    '',
    'Each option is also an environment variable and a key of the JSON file given by --config (or PARLEY_RELAY_CONFIG).',
    'Precedence: flags, then environment, then the config file, then defaults.',
    '',
    `  --${'config FILE'.padEnd(26)} ${CONFIG_ENV.padEnd(40)} JSON file of settings (keys as in relay/src/options.ts)`,
    ...rows,
  ].join('\n');
}

/** A setting's text turned into its value, or the reason it cannot be. */
function parseText(setting: Setting, text: string): unknown {
  switch (setting.kind) {
    case 'string':
      if (text === '') throw new ConfigError(`--${setting.flag} must not be empty`);
      return text;
    case 'integer':
      if (!/^\d+$/.test(text)) throw new ConfigError(`--${setting.flag} must be a whole number, got '${text}'`);
      return Number(text);
    case 'boolean':
      if (text === 'true' || text === '1' || text === '') return true;
      if (text === 'false' || text === '0') return false;
      throw new ConfigError(`--${setting.flag} must be true or false, got '${text}'`);
    case 'level':
      if (!(LOG_LEVELS as readonly string[]).includes(text)) throw new ConfigError(`--${setting.flag} must be one of ${LOG_LEVELS.join(', ')}`);
      return text as LogLevel;
    case 'rate': {
      const match = /^(\d+)\/(\d+)$/.exec(text);
      if (match === null) throw new ConfigError(`--${setting.flag} must be POINTS/MS, e.g. 50/1000, got '${text}'`);
      return { points: Number(match[1]), durationMs: Number(match[2]) } satisfies RateLimit;
    }
    case 'list': {
      const items = text.split(',').map((item) => item.trim());
      if (items.some((item) => item === '')) throw new ConfigError(`--${setting.flag} must be a comma-separated list, got '${text}'`);
      return items;
    }
  }
}

/** A configuration that cannot be used; the message is one line for the operator. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

type Values = Map<Setting['key'], unknown>;

function fromFile(text: string, path: string): Values {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`${path} is not valid JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new ConfigError(`${path} must hold a JSON object`);
  const values: Values = new Map();
  for (const [key, value] of Object.entries(parsed)) {
    if (key === 'rateLimits' && typeof value === 'object' && value !== null) {
      for (const [name, limit] of Object.entries(value)) {
        const setting = SETTINGS.find((s) => s.key === `rateLimits.${name}`);
        if (setting === undefined) throw new ConfigError(`${path}: unknown rate limit '${name}'`);
        values.set(setting.key, limit);
      }
      continue;
    }
    const setting = SETTINGS.find((s) => s.key === key);
    if (setting === undefined) throw new ConfigError(`${path}: unknown setting '${key}'`);
    values.set(setting.key, value);
  }
  return values;
}

function fromEnv(env: Readonly<Record<string, string | undefined>>): Values {
  const values: Values = new Map();
  for (const setting of SETTINGS) {
    const text = env[envName(setting.flag)];
    if (text !== undefined) values.set(setting.key, parseText(setting, text));
  }
  return values;
}

function fromFlags(flags: Readonly<Record<string, string | boolean | undefined>>): Values {
  const values: Values = new Map();
  for (const setting of SETTINGS) {
    const given = flags[setting.flag];
    if (given !== undefined) values.set(setting.key, parseText(setting, given === true ? '' : String(given)));
  }
  return values;
}

export interface LoadedConfig {
  readonly options: RelayOptions;
  readonly help: boolean;
  /** `--version`: print the release and exit. */
  readonly version: boolean;
  /** `--check`: check the configuration and exit instead of starting. */
  readonly check: boolean;
}

/**
 * Relay options from flags, environment and an optional JSON file: flags win over the environment, the
 * environment over the file, the file over defaults. Throws ConfigError with a one-line reason.
 * Values are range-checked later by resolveOptions.
 */
export function loadConfig(args: readonly string[], env: Readonly<Record<string, string | undefined>>, readFile: (path: string) => string): LoadedConfig {
  let flags: Record<string, string | boolean | undefined>;
  try {
    const options = Object.fromEntries([
      ['config', { type: 'string' }],
      ['help', { type: 'boolean' }],
      ['check', { type: 'boolean' }],
      ['version', { type: 'boolean' }],
      ...SETTINGS.map((s) => [s.flag, { type: s.kind === 'boolean' ? 'boolean' : 'string' }]),
    ]) as Record<string, { type: 'string' | 'boolean' }>;
    ({ values: flags } = parseArgs({ args: [...args], options, strict: true, allowPositionals: false }));
  } catch (error) {
    throw new ConfigError(error instanceof Error ? error.message : String(error));
  }
  if (flags.help === true || flags.version === true) return { options: { dataDir: '' }, help: flags.help === true, version: flags.version === true, check: false };

  const configPath = typeof flags.config === 'string' ? flags.config : env[CONFIG_ENV];
  let file: Values = new Map();
  if (configPath !== undefined && configPath !== '') {
    let text: string;
    try {
      text = readFile(configPath);
    } catch (error) {
      throw new ConfigError(`cannot read ${configPath}: ${error instanceof Error ? error.message : String(error)}`);
    }
    file = fromFile(text, configPath);
  }
  const merged: Values = new Map([...file, ...fromEnv(env), ...fromFlags(flags)]);

  const options: Record<string, unknown> = {};
  const rateLimits: Record<string, unknown> = {};
  for (const [key, value] of merged) {
    if (key.startsWith('rateLimits.')) rateLimits[key.slice('rateLimits.'.length)] = value;
    else options[key] = value;
  }
  if (Object.keys(rateLimits).length > 0) options.rateLimits = rateLimits;
  if (typeof options.dataDir !== 'string' || options.dataDir === '') throw new ConfigError('--data DIR is required');
  return { options: options as unknown as RelayOptions, help: false, version: false, check: flags.check === true };
}
