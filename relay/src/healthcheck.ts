// `node dist/relay/healthcheck.mjs [the relay's flags]`: asks the relay that the same flags, PARLEY_RELAY_* variables
// and config file describe for /healthz over loopback, and exits 0 if it answers 200, else 1 with the reason on stderr.
// The Docker image's HEALTHCHECK runs it, so a relay serving https:// (with --tls-cert) is probed as such.
import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { ConfigError, loadConfig } from './config.js';
import { resolveOptions } from './options.js';

const TIMEOUT_MS = 3_000;

/** Where to reach a relay listening on host: a wildcard address is reached on loopback. */
function probeHost(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1';
  if (host === '::') return '::1';
  return host;
}

function healthz(tls: boolean, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    // The certificate names the relay's public name, not loopback: this probe is of our own relay, not of its identity.
    const options = { host, port, path: '/healthz', timeout: TIMEOUT_MS, rejectUnauthorized: false };
    const request = (tls ? httpsRequest : httpRequest)(options, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    request.on('timeout', () => request.destroy(new Error(`no answer within ${TIMEOUT_MS} ms`)));
    request.on('error', reject);
    request.end();
  });
}

async function main(): Promise<number> {
  let resolved;
  try {
    resolved = resolveOptions(loadConfig(process.argv.slice(2), process.env, (path) => readFileSync(path, 'utf8')).options);
  } catch (error) {
    if (!(error instanceof ConfigError) && !(error instanceof RangeError)) throw error;
    console.error(`relay health: ${error.message}`);
    return 2;
  }
  const tls = resolved.tls !== undefined;
  const host = probeHost(resolved.host);
  try {
    const status = await healthz(tls, host, resolved.port);
    if (status === 200) return 0;
    console.error(`relay health: /healthz answered ${status}`);
  } catch (error) {
    console.error(`relay health: ${tls ? 'https' : 'http'}://${host}:${resolved.port}/healthz: ${error instanceof Error ? error.message : String(error)}`);
  }
  return 1;
}

process.exitCode = await main();
