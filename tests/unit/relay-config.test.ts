import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigError, SETTINGS, envName, loadConfig, usage } from '../../relay/src/config.js';
import { openFilesLimit, parseOpenFilesLimit } from '../../relay/src/descriptor-limit.js';
import { resolveOptions } from '../../relay/src/options.js';
import { relayDocBlock } from '../support/relay-docs.js';

const noFile = (path: string): string => {
  throw new Error(`no file ${path}`);
};

function files(contents: Record<string, unknown>): (path: string) => string {
  return (path) => {
    const found = contents[path];
    if (found === undefined) throw new Error(`ENOENT: ${path}`);
    return typeof found === 'string' ? found : JSON.stringify(found);
  };
}

function configError(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    if (error instanceof ConfigError) return error.message;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('relay configuration', () => {
  it('names each environment variable after its flag', () => {
    expect(envName('max-queued-per-user')).toBe('PARLEY_RELAY_MAX_QUEUED_PER_USER');
    expect(new Set(SETTINGS.map((s) => s.flag)).size).toBe(SETTINGS.length);
    for (const setting of SETTINGS) expect(usage()).toContain(envName(setting.flag));
  });

  it('takes flags over environment over file over defaults, setting by setting', () => {
    const read = files({ '/etc/parley.json': { dataDir: '/from-file', host: '0.0.0.0', port: 1111, maxQueuedPerUser: 5, authTimeoutMs: 7 } });
    const env = { PARLEY_RELAY_CONFIG: '/etc/parley.json', PARLEY_RELAY_PORT: '2222', PARLEY_RELAY_MAX_QUEUED_PER_USER: '6' };
    const { options } = loadConfig(['--port', '3333'], env, read);
    expect(options).toMatchObject({ dataDir: '/from-file', host: '0.0.0.0', port: 3333, maxQueuedPerUser: 6, authTimeoutMs: 7 });
    const resolved = resolveOptions(options);
    // Not given anywhere: the default.
    expect(resolved.maxConnectionsPerIp).toBe(32);
  });

  it('takes --help, --version and --check as what to do, not as settings: the first two need no data folder', () => {
    expect(loadConfig(['--version'], {}, noFile)).toMatchObject({ version: true, help: false, check: false });
    expect(loadConfig(['--help'], {}, noFile)).toMatchObject({ version: false, help: true, check: false });
    expect(loadConfig(['--check', '--data', '/d'], {}, noFile)).toMatchObject({ version: false, help: false, check: true, options: { dataDir: '/d' } });
    expect(configError(() => loadConfig(['--check'], {}, noFile))).toMatch(/--data DIR is required/);
  });

  it('prefers --config over PARLEY_RELAY_CONFIG', () => {
    const read = files({ '/a.json': { dataDir: '/a' }, '/b.json': { dataDir: '/b' } });
    expect(loadConfig(['--config', '/b.json'], { PARLEY_RELAY_CONFIG: '/a.json' }, read).options.dataDir).toBe('/b');
  });

  it('reads rate limits as POINTS/MS from flags and env, and as objects from the file', () => {
    const read = files({ '/c.json': { dataDir: '/d', rateLimits: { registrations: { points: 3, durationMs: 9 } } } });
    const { options } = loadConfig(['--config', '/c.json', '--rate-messages', '5/100'], { PARLEY_RELAY_RATE_CONNECTIONS: '7/700' }, read);
    expect(options.rateLimits).toEqual({
      registrations: { points: 3, durationMs: 9 },
      connections: { points: 7, durationMs: 700 },
      messages: { points: 5, durationMs: 100 },
    });
  });

  it('reads booleans and log levels', () => {
    const env = { PARLEY_RELAY_DATA: '/d', PARLEY_RELAY_HASH_USERNAMES: 'true', PARLEY_RELAY_LOG_LEVEL: 'warn' };
    expect(loadConfig([], env, noFile).options).toMatchObject({ hashUsernames: true, logLevel: 'warn' });
    expect(loadConfig(['--hash-usernames'], { PARLEY_RELAY_DATA: '/d' }, noFile).options.hashUsernames).toBe(true);
  });

  it('reads trusted proxies as a comma-separated list, and resolveOptions refuses an entry that is no address', () => {
    expect(loadConfig(['--data', '/d', '--trusted-proxies', 'loopback, 10.0.0.0/8'], {}, noFile).options.trustedProxies).toEqual(['loopback', '10.0.0.0/8']);
    expect(loadConfig([], { PARLEY_RELAY_DATA: '/d', PARLEY_RELAY_TRUSTED_PROXIES: '::1' }, noFile).options.trustedProxies).toEqual(['::1']);
    expect(configError(() => loadConfig(['--data', '/d', '--trusted-proxies', 'loopback,,'], {}, noFile))).toMatch(/comma-separated/);
    expect(() => resolveOptions({ dataDir: '/d', trustedProxies: ['10.0.0.0/99'] })).toThrow(/trustedProxies/);
  });

  it("takes docs/RELAY.md's example config file as written, each key its option, and a flag over it", () => {
    const example = relayDocBlock('\n## Configuration\n');
    const loaded = loadConfig(['--config', '/etc/parley-relay.json'], {}, files({ '/etc/parley-relay.json': example }));
    expect(loaded.options).toMatchObject({ dataDir: '/var/lib/parley-relay', host: '0.0.0.0', port: 7733, logLevel: 'info', hashUsernames: true, maxQueueAgeMs: 14 * 24 * 3600_000 });
    expect(resolveOptions(loaded.options).rateLimits.messages).toEqual({ points: 20, durationMs: 1000 });
    expect(loadConfig(['--config', '/etc/parley-relay.json', '--port', '7744'], {}, files({ '/etc/parley-relay.json': example })).options.port).toBe(7744);
  });

  it("docs/RELAY.md's table has a row for every setting, with its environment variable", () => {
    const rows = readFileSync(new URL('../../docs/RELAY.md', import.meta.url), 'utf8').split('\n').filter((line) => line.startsWith('| `--'));
    const undocumented = SETTINGS.filter((s) => !rows.some((row) => row.startsWith(`| \`--${s.flag}`) && row.includes(`\`${envName(s.flag)}\``)));
    expect(undocumented.map((s) => s.flag)).toEqual([]);
  });

  it('reads who may see /metrics as a list, defaulting to this machine and private networks', () => {
    expect(resolveOptions({ dataDir: '/d' }).metricsFrom).toEqual(['loopback', 'uniquelocal']);
    expect(loadConfig(['--data', '/d', '--metrics-from', '10.8.0.0/16,::1'], {}, noFile).options.metricsFrom).toEqual(['10.8.0.0/16', '::1']);
    expect(loadConfig([], { PARLEY_RELAY_DATA: '/d', PARLEY_RELAY_METRICS_FROM: 'loopback' }, noFile).options.metricsFrom).toEqual(['loopback']);
    expect(() => resolveOptions({ dataDir: '/d', metricsFrom: ['everyone'] })).toThrow(/^metricsFrom: /);
  });

  it.each<[string, string[], Record<string, string>, Record<string, unknown>, RegExp]>([
    ['a missing data dir', [], {}, {}, /--data DIR is required/],
    ['an unknown flag', ['--data', '/d', '--colour'], {}, {}, /colour/],
    ['a non-numeric port', ['--data', '/d', '--port', 'seven'], {}, {}, /--port must be a whole number/],
    ['a bad env value', ['--data', '/d'], { PARLEY_RELAY_MAX_QUEUED_PER_USER: '-1' }, {}, /--max-queued-per-user/],
    ['a bad rate', ['--data', '/d', '--rate-messages', '5 per second'], {}, {}, /POINTS\/MS/],
    ['a bad log level', ['--data', '/d', '--log-level', 'loud'], {}, {}, /--log-level/],
    ['an unknown file key', ['--config', '/x.json'], {}, { '/x.json': { dataDir: '/d', colour: 'red' } }, /unknown setting 'colour'/],
    ['a file that is not JSON', ['--config', '/x.json'], {}, { '/x.json': '{ nope' }, /not valid JSON/],
    ['a missing file', ['--config', '/none.json'], {}, {}, /cannot read \/none.json/],
  ])('refuses %s with one line', (_label, args, env, contents, message) => {
    expect(configError(() => loadConfig(args, env, files(contents)))).toMatch(message);
  });

  it('leaves range checks to resolveOptions, which names the option', () => {
    const { options } = loadConfig(['--data', '/d', '--port', '70000'], {}, noFile);
    expect(() => resolveOptions(options)).toThrow(/port must be an integer from 0 to 65535/);
    expect(() => resolveOptions({ dataDir: '/d', tlsCertPath: '/cert.pem' })).toThrow(/go together/);
    const tls = { dataDir: '/d', tlsCertPath: '/cert.pem', tlsKeyPath: '/key.pem' };
    expect(resolveOptions(tls).tls).toEqual({ certPath: '/cert.pem', keyPath: '/key.pem', reloadIntervalMs: 3_600_000 });
    expect(resolveOptions({ ...tls, tlsReloadIntervalMs: 0 }).tls?.reloadIntervalMs).toBe(0);
    expect(() => resolveOptions({ ...tls, tlsReloadIntervalMs: -1 })).toThrow(/tlsReloadIntervalMs must be an integer from 0 to 2147483647/);
    // The delivered-id table's slots must fit one typed array: 100 million ids, about 4 GB, is the most it takes.
    expect(resolveOptions({ dataDir: '/d', maxDeliveredIds: 100_000_000 }).maxDeliveredIds).toBe(100_000_000);
    expect(() => resolveOptions({ dataDir: '/d', maxDeliveredIds: 100_000_001 })).toThrow(/maxDeliveredIds must be an integer from 0 to 100000000/);
  });

  it('bounds maxConnections by the descriptor limit, less the 256 kept for the relay\'s own files', () => {
    expect(resolveOptions({ dataDir: '/d' }, () => 65_536).maxConnections).toBe(65_280);
    expect(resolveOptions({ dataDir: '/d', maxConnections: 1_000 }, () => 65_536).maxConnections).toBe(1_000);
    expect(resolveOptions({ dataDir: '/d', maxConnections: 65_280 }, () => 65_536).maxConnections).toBe(65_280);
    expect(() => resolveOptions({ dataDir: '/d', maxConnections: 65_281 }, () => 65_536)).toThrow(
      /^maxConnections 65281 is more than this process's 65536 open files leave beside the 256 the relay keeps for its own \(65280\): raise the limit \(LimitNOFILE/,
    );
    expect(() => resolveOptions({ dataDir: '/d' }, () => 256)).toThrow(/^this process may open only 256 files, and the relay keeps 256 for its own: raise the limit/);
    expect(() => resolveOptions({ dataDir: '/d', maxConnections: 0 }, () => 65_536)).toThrow(/maxConnections must be an integer from 1/);
    // Where the limit cannot be read (no /proc), a fixed default, and the operator's word.
    expect(resolveOptions({ dataDir: '/d' }, () => undefined).maxConnections).toBe(10_000);
    expect(resolveOptions({ dataDir: '/d', maxConnections: 50_000 }, () => undefined).maxConnections).toBe(50_000);
  });

  it("reads the soft open-files limit from /proc's limits table", () => {
    const table = [
      'Limit                     Soft Limit           Hard Limit           Units     ',
      'Max processes             63448                63448                processes ',
      'Max open files            1024                 524288               files     ',
      'Max locked memory         8388608              8388608              bytes     ',
    ].join('\n');
    expect(parseOpenFilesLimit(table)).toBe(1_024);
    expect(parseOpenFilesLimit(table.replace('1024    ', 'unlimited'))).toBeUndefined();
    expect(parseOpenFilesLimit('')).toBeUndefined();
    // This process's, as the shell reports it.
    expect(openFilesLimit()).toBe(Number(execFileSync('sh', ['-c', 'ulimit -n']).toString().trim()));
  });
});
