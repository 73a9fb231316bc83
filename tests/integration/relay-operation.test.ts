import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { once } from 'node:events';
import { get } from 'node:https';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRelay } from '../../relay/src/server.js';
import { selfSignedCertificate } from '../support/certificate.js';
import { startTestRelay } from '../support/relay.js';
import { WireClient, createIdentity, expectOk } from '../support/wire-client.js';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

let dir: string;
let certPath: string;
let keyPath: string;
let cert: Buffer;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'parley-relay-tls-'));
  ({ certPath, keyPath } = selfSignedCertificate(dir, 'parley-test', { subjectAltName: 'IP:127.0.0.1' }));
  cert = await readFile(certPath);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function httpsStatus(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    get(url, { ca: cert }, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    }).on('error', reject);
  });
}

/** The bundle `npm run relay` runs, built once for this file's tests. */
let relayBundled = false;
function buildRelayBundle(): void {
  if (relayBundled) return;
  execFileSync(process.execPath, ['build/bundle-relay.mjs'], { cwd: REPO_ROOT, stdio: 'inherit' });
  relayBundled = true;
}

describe('relay operation', () => {
  it('serves wss:// and https:// from a certificate and key', async () => {
    const relay = await startTestRelay({ tlsCertPath: certPath, tlsKeyPath: keyPath });
    try {
      expect(relay.url).toMatch(/^wss:\/\/127\.0\.0\.1:\d+$/);
      const client = await WireClient.connect(relay.url, { ca: cert });
      await expectOk(client.register(await createIdentity('alice')));
      expect(await httpsStatus(`https://127.0.0.1:${relay.port}/healthz`)).toBe(200);
      await client.close();
      // A client that does not trust the certificate does not get in.
      await expect(WireClient.connect(relay.url)).rejects.toThrow(/self.signed|certificate/i);
    } finally {
      await relay.close();
    }
  });

  it('with TLS, drops a socket that never starts its TLS handshake, and keeps a wss client that finished its own', async () => {
    const relay = await startTestRelay({ tlsCertPath: certPath, tlsKeyPath: keyPath, handshakeTimeoutMs: 300 });
    try {
      const client = await WireClient.connect(relay.url, { ca: cert });
      const silent = connect(relay.port, '127.0.0.1');
      await once(silent, 'connect');
      await once(silent, 'close');
      // Upgraded before the silent socket came, its timer (cleared through the TLS socket) would have fired first.
      await expectOk(client.register(await createIdentity('alice')));
      await client.close();
    } finally {
      await relay.close();
    }
  });

  it('with TLS, stops at once with a socket still before its TLS handshake', async () => {
    const relay = await startTestRelay({ tlsCertPath: certPath, tlsKeyPath: keyPath, handshakeTimeoutMs: 60_000 });
    const silent = connect(relay.port, '127.0.0.1');
    silent.on('error', () => undefined);
    await once(silent, 'connect');
    const dropped = once(silent, 'close');
    // The HTTP server closes only the connections it has seen; this one is not its yet.
    await relay.close();
    await dropped;
  });

  it('refuses certificate and key files it cannot use, at start, naming the option', async () => {
    // A second key, not the certificate's.
    const otherKeyPath = join(dir, 'other-key.pem');
    execFileSync('openssl', ['genpkey', '-algorithm', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-out', otherKeyPath], { stdio: 'ignore' });
    const notPem = join(dir, 'not.pem');
    await writeFile(notPem, 'not a certificate\n');
    const startWith = (tlsCertPath: string, tlsKeyPath: string) => startTestRelay({ tlsCertPath, tlsKeyPath });
    await expect(startWith(join(dir, 'missing.pem'), keyPath)).rejects.toThrow(new RangeError(`tlsCertPath ${join(dir, 'missing.pem')} cannot be read (ENOENT)`));
    await expect(startWith(certPath, join(dir, 'missing-key.pem'))).rejects.toThrow(/^tlsKeyPath \S+missing-key\.pem cannot be read \(ENOENT\)$/);
    await expect(startWith(dir, keyPath)).rejects.toThrow(/^tlsCertPath \S+ cannot be read \(EISDIR\)$/);
    await expect(startWith(notPem, keyPath)).rejects.toThrow(/are not a PEM certificate chain and its private key/);
    await expect(startWith(certPath, otherKeyPath)).rejects.toThrow(RangeError);
    await expect(startWith(certPath, otherKeyPath)).rejects.toThrow(/are not a PEM certificate chain and its private key \(.*mismatch/i);
    // The command line says which file, and exits 2 as for any other bad setting.
    const dataDir = join(dir, 'refused-data');
    execFileSync(process.execPath, ['build/bundle-relay.mjs'], { cwd: REPO_ROOT, stdio: 'ignore' });
    const refused = spawnSync(process.execPath, ['dist/relay/cli.mjs', '--data', dataDir, '--port', '0', '--tls-cert', certPath, '--tls-key', otherKeyPath], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 20_000 });
    expect(refused.status).toBe(2);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toMatch(/^relay: tlsCertPath \S+parley-test\.crt and tlsKeyPath \S+other-key\.pem are not a PEM certificate chain and its private key .*\(see --help\)$/m);
    // The same files, matched up, serve.
    const relay = await startWith(certPath, keyPath);
    await relay.close();
  });

  it('says plainly why it cannot listen: a port in use, a host not of this machine', async () => {
    const first = await startTestRelay();
    try {
      await expect(startTestRelay({ port: first.port })).rejects.toThrow(
        new RangeError(`cannot listen on 127.0.0.1 port ${first.port}: the port is in use (EADDRINUSE)`),
      );
      // 192.0.2.1 is TEST-NET-1 (RFC 5737): never an address of a real machine.
      await expect(startTestRelay({ host: '192.0.2.1' })).rejects.toThrow(/^cannot listen on 192\.0\.2\.1 port 0: the host is not an address of this machine \(EADDRNOTAVAIL\)$/);
      // The relay already there serves on.
      const client = await WireClient.connect(first.url);
      await expectOk(client.register(await createIdentity('alice')));
      await client.close();
    } finally {
      await first.close();
    }
  });

  it('runs one relay per data folder: a second is refused, in the same process or another, and the first serves on', async () => {
    const first = await startTestRelay();
    const options = { dataDir: first.dataDir, host: '127.0.0.1', port: 0, logLevel: 'silent' } as const;
    try {
      const alice = await createIdentity('alice');
      const client = await WireClient.connect(first.url);
      await expectOk(client.register(alice));
      await expect(startRelay(options)).rejects.toMatchObject({ code: 'DATA_FOLDER_IN_USE' });
      buildRelayBundle();
      const refused = spawnSync(process.execPath, ['dist/relay/cli.mjs', '--data', first.dataDir, '--port', '0', '--log-level', 'silent'], { cwd: REPO_ROOT, encoding: 'utf8' });
      expect(refused.status).toBe(1);
      expect(refused.stdout).toBe('');
      expect(refused.stderr).toBe(`relay: another relay is running with the data folder ${first.dataDir}; stop it first, or give this relay a data folder of its own\n`);
      // The first relay's client was never disturbed, and its account is still there for the next relay.
      expect(await client.request({ name: 'LOOKUP', username: 'alice' })).toMatchObject({ name: 'USER' });
      await client.close();
      const next = await first.restart();
      try {
        const again = await WireClient.connect(next.url);
        await expectOk(again.auth(alice));
        await again.close();
      } finally {
        await next.close();
      }
    } finally {
      await first.close();
    }
  });

  it('the shipped command line checks a configuration with --check (exit 0 with what it found, or 2 with each problem) and prints its --version', async () => {
    buildRelayBundle();
    const dataDir = join(dir, 'check-data');
    const check = (...args: string[]) => spawnSync(process.execPath, ['dist/relay/cli.mjs', '--check', '--data', dataDir, '--port', '0', ...args], { cwd: REPO_ROOT, encoding: 'utf8' });
    const ok = check('--tls-cert', certPath, '--tls-key', keyPath);
    expect(ok.stderr).toBe('');
    expect(ok.status).toBe(0);
    expect(ok.stdout).toMatch(/^configuration OK\n {2}listen +wss:\/\/127\.0\.0\.1:0 \(any free port\)\n {2}certificate +expires \S+ \(in 0 days\), SHA-256 [0-9A-F:]+\n {2}data folder +\S+check-data \(does not exist yet: the relay creates it\)\n {2}connections +at most \d+ at once \(this process may open \d+ files; 256 are kept for the relay's own\)\n {2}registration +open/);
    const otherKeyPath = join(dir, 'check-other-key.pem');
    execFileSync('openssl', ['genpkey', '-algorithm', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-out', otherKeyPath], { stdio: 'ignore' });
    const bad = check('--tls-cert', certPath, '--tls-key', otherKeyPath, '--max-frame-bytes', '1');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/^relay: maxFrameBytes must be an integer from \d+ to \d+, got 1\n$/);
    expect(bad.stdout).toBe('configuration has 1 problem\n');
    const mismatched = check('--tls-cert', certPath, '--tls-key', otherKeyPath);
    expect(mismatched.status).toBe(2);
    expect(mismatched.stderr).toMatch(/^relay: tlsCertPath \S+ and tlsKeyPath \S+other-key\.pem are not a PEM certificate chain and its private key/);
    expect(mismatched.stdout).toMatch(/^configuration has 1 problem\n {2}listen/);
    // A check starts nothing and creates nothing.
    expect(existsSync(dataDir)).toBe(false);
    // --version needs no data folder; the release is package.json's.
    const { version } = JSON.parse(await readFile(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
    const printed = spawnSync(process.execPath, ['dist/relay/cli.mjs', '--version'], { cwd: REPO_ROOT, encoding: 'utf8' });
    expect([printed.status, printed.stdout, printed.stderr]).toEqual([0, `parley-relay ${version}\n`, '']);
  });

  it('leaves no stale lock on its data folder when killed', async () => {
    const dataDir = join(dir, 'killed-data');
    buildRelayBundle();
    const child = spawn(process.execPath, ['dist/relay/cli.mjs', '--data', dataDir, '--port', '0', '--log-level', 'silent'], { cwd: REPO_ROOT });
    const exited = once(child, 'exit');
    try {
      let stdout = '';
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (chunk: Buffer) => {
          stdout += chunk.toString();
          if (stdout.includes('listening on ')) resolve();
        });
        void exited.then(() => reject(new Error('relay exited early')));
      });
    } finally {
      child.kill('SIGKILL');
    }
    await exited;
    const relay = await startRelay({ dataDir, host: '127.0.0.1', port: 0, logLevel: 'silent' });
    await relay.close();
  });

  it('the shipped command line (the bundle `npm run relay` builds) takes a config file, PARLEY_RELAY_* variables and flags, and stops cleanly on SIGTERM', async () => {
    const dataDir = join(dir, 'cli-data');
    const configPath = join(dir, 'relay.json');
    await writeFile(configPath, JSON.stringify({ dataDir, port: 7, tlsCertPath: certPath, tlsKeyPath: keyPath, logLevel: 'info' }));
    buildRelayBundle();
    const child = spawn(process.execPath, ['--enable-source-maps', 'dist/relay/cli.mjs', '--log-level', 'silent'], {
      cwd: REPO_ROOT,
      // The environment's port (0) wins over the file's (7); the flag's log level over the file's.
      env: { ...process.env, PARLEY_RELAY_CONFIG: configPath, PARLEY_RELAY_PORT: '0' },
    });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const url = await new Promise<string>((resolve, reject) => {
        child.stdout.on('data', (chunk: Buffer) => {
          stdout += chunk.toString();
          const match = /^listening on (wss:\/\/127\.0\.0\.1:\d+)$/m.exec(stdout);
          if (match?.[1] !== undefined) resolve(match[1]);
        });
        void exited.then(() => reject(new Error(`relay exited early: ${stderr}`)));
      });
      const client = await WireClient.connect(url, { ca: cert });
      await expectOk(client.register(await createIdentity('alice')));
      child.kill('SIGTERM');
      expect(await client.closed).toMatchObject({ code: 1001 });
      expect(await exited).toBe(0);
      expect(stderr).toBe('');
    } finally {
      child.kill('SIGKILL');
    }
  });
});
