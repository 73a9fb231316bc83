import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { get } from 'node:https';
import { connect } from 'node:tls';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LogFields } from '../../relay/src/log.js';
import { startRelay, type RelayHandle } from '../../relay/src/server.js';
import { loadTlsFiles } from '../../relay/src/tls.js';
import { TlsReloader } from '../../relay/src/tls-reload.js';
import { selfSignedCertificate } from '../support/certificate.js';
import { startBundledRelay } from '../support/bundled-relay.js';
import { useBundledRelay } from '../support/cli-bundle.js';
import { useCleanups } from '../support/cleanups.js';
import { captureLines, type LogCapture, type LogLine } from '../support/log-capture.js';
import { startTestRelay } from '../support/relay.js';
import { WireClient, createIdentity, expectOk } from '../support/wire-client.js';

const cleanups = useCleanups();
const relayBundle = useBundledRelay();

/** A self-signed certificate for 127.0.0.1 and its key, with what openssl itself reads from the certificate. */
interface Issued {
  readonly certPath: string;
  readonly keyPath: string;
  readonly cert: Buffer;
  readonly fingerprint256: string;
  readonly expiresAt: number;
}

let certs: string;
let first: Issued;
let renewed: Issued;

function openssl(...args: string[]): string {
  return execFileSync('openssl', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
}

async function issue(name: string, days: number): Promise<Issued> {
  const { certPath, keyPath } = selfSignedCertificate(certs, name, { days, subjectAltName: 'IP:127.0.0.1' });
  const fingerprint = /=([0-9A-F:]+)$/m.exec(openssl('x509', '-in', certPath, '-noout', '-fingerprint', '-sha256'))?.[1];
  const notAfter = /^notAfter=(.+)$/m.exec(openssl('x509', '-in', certPath, '-noout', '-enddate'))?.[1];
  if (fingerprint === undefined || notAfter === undefined) throw new Error('openssl printed no fingerprint or end date');
  return { certPath, keyPath, cert: await readFile(certPath), fingerprint256: fingerprint, expiresAt: Date.parse(notAfter) };
}

beforeAll(async () => {
  certs = await mkdtemp(join(tmpdir(), 'parley-tls-certs-'));
  first = await issue('first', 2);
  renewed = await issue('renewed', 90);
});

afterAll(() => rm(certs, { recursive: true, force: true }));

/** The folder the relay's tlsCertPath and tlsKeyPath point into, holding `issued` as a renewal would leave it. */
async function servingFolder(issued: Issued): Promise<{ certPath: string; keyPath: string; install(next: Issued): Promise<void> }> {
  const folder = await cleanups.tempDir('parley-tls-live-');
  const certPath = join(folder, 'fullchain.pem');
  const keyPath = join(folder, 'privkey.pem');
  const install = async (next: Issued): Promise<void> => {
    await copyFile(next.keyPath, keyPath);
    await copyFile(next.certPath, certPath);
  };
  await install(issued);
  return { certPath, keyPath, install };
}

/** The fingerprint of the certificate a new TLS handshake with the relay gets. */
async function servedFingerprint(port: number): Promise<string> {
  const socket = connect({ host: '127.0.0.1', port, rejectUnauthorized: false });
  try {
    await once(socket, 'secureConnect');
    const peer = socket.getPeerX509Certificate();
    if (peer === undefined) throw new Error('no peer certificate');
    return peer.fingerprint256;
  } finally {
    socket.destroy();
  }
}

function metricsText(port: number, ca: Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    get(`https://127.0.0.1:${port}/metrics`, { ca, agent: false }, (response) => {
      let body = '';
      response.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve(body));
    }).on('error', reject);
  });
}

function expiryGauge(text: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith('parley_tls_certificate_expiry_timestamp_seconds '));
  return line === undefined ? undefined : Number(line.split(' ')[1]);
}

/** A relay serving the certificate in `serving`, reading it again every intervalMs (0: only when asked), its log kept. */
async function loggingRelay(serving: { certPath: string; keyPath: string }, intervalMs: number): Promise<{ relay: RelayHandle; capture: LogCapture }> {
  const capture = captureLines();
  const dataDir = await cleanups.tempDir('parley-relay-');
  const relay = await startRelay(
    { dataDir, host: '127.0.0.1', port: 0, logLevel: 'info', tlsCertPath: serving.certPath, tlsKeyPath: serving.keyPath, tlsReloadIntervalMs: intervalMs },
    { logDestination: capture.stream },
  );
  cleanups.push(() => relay.close());
  return { relay, capture };
}

/** The Node process under pid (itself included) whose command line names `program`, found through /proc. */
function nodeRunning(pid: number, program: string): number {
  if (readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'node' && readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(program)) return pid;
  for (const child of readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').split(' ').filter(Boolean)) {
    try {
      return nodeRunning(Number(child), program);
    } catch {
      // Not under this child.
    }
  }
  throw new Error(`no node process running ${program} under ${pid}`);
}

describe('relay TLS certificate reload', () => {
  it('serves a renewed certificate to new connections without a restart, and open connections carry on', async () => {
    const serving = await servingFolder(first);
    const relay = await startTestRelay({ tlsCertPath: serving.certPath, tlsKeyPath: serving.keyPath, tlsReloadIntervalMs: 0 });
    cleanups.push(() => relay.close());
    const alice = await WireClient.connect(relay.url, { ca: first.cert });
    cleanups.push(() => alice.close());
    await expectOk(alice.register(await createIdentity('alice')));
    expect(await servedFingerprint(relay.port)).toBe(first.fingerprint256);
    expect(expiryGauge(await metricsText(relay.port, first.cert))).toBe(first.expiresAt / 1000);

    await serving.install(renewed);
    expect(relay.reloadTls()).toEqual({ ok: true, changed: true, certificate: { fingerprint256: renewed.fingerprint256, expiresAt: renewed.expiresAt } });
    expect(await servedFingerprint(relay.port)).toBe(renewed.fingerprint256);
    // A client that trusts only the renewed certificate gets in; the one connected before is still served.
    const bob = await WireClient.connect(relay.url, { ca: renewed.cert });
    cleanups.push(() => bob.close());
    await expectOk(bob.register(await createIdentity('bob')));
    expect(await alice.request({ name: 'LOOKUP', username: 'bob' })).toMatchObject({ name: 'USER' });
    expect(expiryGauge(await metricsText(relay.port, renewed.cert))).toBe(renewed.expiresAt / 1000);
    // Read again with nothing new, it says so.
    expect(relay.reloadTls()).toMatchObject({ ok: true, changed: false });
  });

  it('keeps serving the certificate it has when the new files are unusable, says why, and logs no key', async () => {
    const serving = await servingFolder(first);
    const { relay, capture } = await loggingRelay(serving, 0);

    // A renewal caught halfway: the new certificate beside the old key.
    await copyFile(renewed.certPath, serving.certPath);
    const halfway = relay.reloadTls();
    expect(halfway).toMatchObject({ ok: false, code: 'TLS_FILES_UNUSABLE' });
    expect(halfway.ok ? '' : halfway.message).toMatch(/^tlsCertPath \S+fullchain\.pem and tlsKeyPath \S+privkey\.pem are not a PEM certificate chain and its private key \(.*mismatch/i);
    await writeFile(serving.keyPath, 'not a key\n');
    expect(relay.reloadTls()).toMatchObject({ ok: false, code: 'TLS_FILES_UNUSABLE', message: expect.stringMatching(/not a PEM certificate chain/) });
    await rm(serving.keyPath);
    expect(relay.reloadTls()).toMatchObject({ ok: false, code: 'TLS_FILES_UNUSABLE', message: expect.stringMatching(/^tlsKeyPath \S+privkey\.pem cannot be read \(ENOENT\)$/) });
    // Put right, the files are the ones served all along.
    await serving.install(first);
    expect(relay.reloadTls()).toMatchObject({ ok: true, changed: false });
    expect(await servedFingerprint(relay.port)).toBe(first.fingerprint256);
    const client = await WireClient.connect(relay.url, { ca: first.cert });
    cleanups.push(() => client.close());
    await expectOk(client.register(await createIdentity('carol')));

    const failures = capture.lines.filter((line: LogLine) => line.event === 'tls_reload_failed');
    expect(failures).toHaveLength(3);
    expect(failures[0]).toMatchObject({ level: 'warn', trigger: 'signal', detail: expect.stringMatching(/mismatch/i) });
    expect(await capture.next({ event: 'tls_reloaded', changed: false })).toMatchObject({ fingerprint256: first.fingerprint256 });
    const pem = (await readFile(first.keyPath, 'utf8')).split('\n')[1] ?? '';
    expect(pem.length).toBeGreaterThan(20);
    expect(capture.raw()).not.toContain(pem);
    expect(capture.raw()).not.toContain('PRIVATE KEY');
  });

  it('keeps the certificate it serves when handing over the new one fails, and never throws', async () => {
    const serving = await servingFolder(first);
    const events: Array<[string, LogFields | undefined]> = [];
    const reloader = new TlsReloader({ ...serving, reloadIntervalMs: 0 }, loadTlsFiles(serving), () => {
      throw new Error('the server refused the context');
    }, (event, fields) => events.push([event, fields]));
    await serving.install(renewed);
    expect(reloader.reload('interval')).toEqual({ ok: false, code: 'TLS_FILES_UNUSABLE', message: 'the server refused the context' });
    expect(reloader.certificate.fingerprint256).toBe(first.fingerprint256);
    expect(events).toEqual([['tls_reload_failed', { trigger: 'interval', detail: 'the server refused the context' }]]);
  });

  it('picks up a renewed certificate on its own, every tlsReloadIntervalMs', async () => {
    const serving = await servingFolder(first);
    const { relay, capture } = await loggingRelay(serving, 20);
    expect(await capture.next({ event: 'relay_started' })).toMatchObject({ tlsExpiresAt: new Date(first.expiresAt).toISOString() });
    await serving.install(renewed);
    const reloaded = await capture.next({ event: 'tls_reloaded', trigger: 'interval' });
    expect(reloaded).toMatchObject({ changed: true, fingerprint256: renewed.fingerprint256, expiresAt: new Date(renewed.expiresAt).toISOString() });
    expect(await servedFingerprint(relay.port)).toBe(renewed.fingerprint256);
    // Unchanged files are read every interval without a line each time.
    expect(capture.lines.filter((line) => line.event === 'tls_reloaded')).toHaveLength(1);
  });

  it('the shipped relay reloads on SIGHUP; without TLS it logs that there is nothing to reload and serves on', async () => {
    const serving = await servingFolder(first);
    const started = (args: string[]) => startBundledRelay(cleanups, relayBundle(), args);

    const tls = started(['--data', await cleanups.tempDir('parley-relay-'), '--tls-cert', serving.certPath, '--tls-key', serving.keyPath]);
    const tlsUrl = await tls.url;
    await serving.install(renewed);
    tls.child.kill('SIGHUP');
    expect(await tls.stderr.next({ event: 'tls_reloaded' })).toMatchObject({ trigger: 'signal', changed: true, fingerprint256: renewed.fingerprint256 });
    expect(await servedFingerprint(Number(new URL(tlsUrl).port))).toBe(renewed.fingerprint256);

    const plain = started(['--data', await cleanups.tempDir('parley-relay-')]);
    const plainUrl = await plain.url;
    plain.child.kill('SIGHUP');
    expect(await plain.stderr.next({ event: 'reload_skipped' })).toMatchObject({ level: 'info', signal: 'SIGHUP' });
    const client = await WireClient.connect(plainUrl);
    await expectOk(client.register(await createIdentity('dave')));
    await client.close();

    for (const relay of [tls, plain]) {
      relay.child.kill('SIGTERM');
      const [code] = (await relay.exited) as [number | null];
      expect(code).toBe(0);
    }
  });

  it('on a terminal, SIGHUP is the terminal going away: the relay stops gracefully instead of running on unseen', async () => {
    const dataDir = await cleanups.tempDir('parley-relay-');
    // util-linux's script gives the relay a terminal of its own; -e passes on its exit status.
    const terminal = spawn('script', ['-qec', `${process.execPath} ${relayBundle()} --data ${dataDir} --port 0 --log-level info`, '/dev/null']);
    cleanups.push(async () => {
      terminal.kill('SIGKILL');
    });
    const exited = once(terminal, 'exit');
    let output = '';
    terminal.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    const printed = (pattern: RegExp): Promise<void> =>
      new Promise((resolve, reject) => {
        const look = (): void => {
          if (!pattern.test(output)) return;
          terminal.stdout.off('data', look);
          resolve();
        };
        terminal.stdout.on('data', look);
        void exited.then(() => reject(new Error(`the relay exited before printing ${String(pattern)}: ${output}`)));
        look();
      });
    await printed(/listening on ws:/);
    process.kill(nodeRunning(terminal.pid ?? 0, 'cli.mjs'), 'SIGHUP');
    await printed(/"signal":"SIGHUP","event":"relay_stopping"[\s\S]*"event":"relay_stopped"/);
    expect(await exited).toEqual([0, null]);
    expect(output).not.toContain('reload_skipped');
  });
});
