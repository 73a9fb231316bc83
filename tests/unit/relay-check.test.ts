import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3-multiple-ciphers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type AddressInfo } from 'node:net';
import { checkConfig, type ConfigCheck } from '../../relay/src/check.js';
import type { RelayOptions } from '../../relay/src/options.js';
import { SCHEMA_VERSION } from '../../relay/src/store/migrations.js';
import { selfSignedCertificate } from '../support/certificate.js';
import { useCleanups } from '../support/cleanups.js';
import { startRelay } from '../../relay/src/server.js';

const cleanups = useCleanups();

let certs: { certPath: string; keyPath: string; otherKeyPath: string; expiresAt: number };

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'parley-check-certs-'));
  const { certPath, keyPath } = selfSignedCertificate(dir, 'parley-check', { days: 10 });
  const otherKeyPath = join(dir, 'other-key.pem');
  execFileSync('openssl', ['genpkey', '-algorithm', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-out', otherKeyPath], { stdio: 'ignore' });
  const notAfter = /^notAfter=(.+)$/m.exec(execFileSync('openssl', ['x509', '-in', certPath, '-noout', '-enddate'], { encoding: 'utf8' }))?.[1];
  certs = { certPath, keyPath, otherKeyPath, expiresAt: Date.parse(notAfter ?? '') };
});

afterAll(() => rm(dir, { recursive: true, force: true }));

function fact(check: ConfigCheck, label: string): string | undefined {
  return check.facts.find(([name]) => name === label)?.[1];
}

/** A check on any free port unless the options name one: most tests here are not about the port. */
function check(options: RelayOptions, now?: number): Promise<ConfigCheck> {
  return checkConfig({ port: 0, ...options }, now);
}

describe('relay --check', () => {
  it('passes a folder not made yet, and creates nothing', async () => {
    const dataDir = join(await cleanups.tempDir('parley-check-'), 'relay');
    const fresh = await check({ dataDir, registration: 'invite' });
    expect(fresh.problems).toEqual([]);
    expect(fact(fresh, 'listen')).toBe('ws://127.0.0.1:0 (any free port)');
    expect(fact(fresh, 'data folder')).toBe(`${dataDir} (does not exist yet: the relay creates it)`);
    expect(fact(fresh, 'registration')).toMatch(/^invite/);
    expect(existsSync(dataDir)).toBe(false);
    // An empty folder: still nothing written to it.
    await mkdir(dataDir);
    expect(fact(await check({ dataDir }), 'data folder')).toBe(`${dataDir} (no database yet: the relay creates it)`);
    expect(await readdir(dataDir)).toEqual([]);
  });

  it("reads a running relay's folder without disturbing it, and tells that it runs", async () => {
    const dataDir = await cleanups.tempDir('parley-check-');
    const options = { dataDir, tlsCertPath: certs.certPath, tlsKeyPath: certs.keyPath };
    const relay = await startRelay({ ...options, port: 0, logLevel: 'silent' });
    cleanups.push(() => relay.close());
    const now = certs.expiresAt - 3.5 * 24 * 60 * 60 * 1000;
    // Its own port: held by the relay running on the folder, so not tried.
    const running = await checkConfig({ ...options, port: relay.port }, now);
    expect(running.problems).toEqual([]);
    expect(fact(running, 'listen')).toBe(`wss://127.0.0.1:${relay.port} (not tried: the running relay holds it)`);
    expect(fact(running, 'data folder')).toBe(`${dataDir} (database schema ${SCHEMA_VERSION}; a relay is running on it now: another cannot start on it until that one stops)`);
    expect(fact(running, 'certificate')).toMatch(new RegExp(`^expires ${new Date(certs.expiresAt).toISOString()} \\(in 3 days\\), SHA-256 [0-9A-F:]{95}$`));
    await relay.close();
    const stopped = await checkConfig({ ...options, port: relay.port }, now);
    expect(stopped.problems).toEqual([]);
    expect(fact(stopped, 'listen')).toBe(`wss://127.0.0.1:${relay.port}`);
    expect(fact(stopped, 'data folder')).toBe(`${dataDir} (database schema ${SCHEMA_VERSION})`);
  });

  it('names each problem a start would meet, or a client would', async () => {
    const parent = await cleanups.tempDir('parley-check-');
    expect((await check({ dataDir: parent, port: 70_000 })).problems).toEqual(['port must be an integer from 0 to 65535, got 70000']);
    // A port another program holds.
    const other = createServer();
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise((resolve) => other.close(resolve)));
    const taken = (other.address() as AddressInfo).port;
    expect((await check({ dataDir: parent, port: taken })).problems).toEqual([`cannot listen on 127.0.0.1 port ${taken}: the port is in use (EADDRINUSE)`]);
    const withCert = { dataDir: parent, tlsCertPath: certs.certPath, tlsKeyPath: certs.keyPath };
    expect((await check(withCert, certs.expiresAt)).problems).toEqual([`the certificate in ${certs.certPath} expired on ${new Date(certs.expiresAt).toISOString()}: clients will refuse it`]);
    expect((await check({ ...withCert, tlsKeyPath: certs.otherKeyPath })).problems).toEqual([
      expect.stringMatching(/^tlsCertPath \S+parley-check\.crt and tlsKeyPath \S+other-key\.pem are not a PEM certificate chain and its private key/),
    ]);

    const aFile = join(parent, 'a-file');
    await writeFile(aFile, '');
    expect((await check({ dataDir: aFile })).problems).toEqual([`the data folder ${aFile} is not a folder`]);

    const garbled = join(parent, 'garbled');
    await mkdir(garbled);
    await writeFile(join(garbled, 'relay.sqlite'), 'not a database, but long enough to have a header of sorts '.repeat(20));
    expect((await check({ dataDir: garbled })).problems).toEqual([`the database in ${garbled} cannot be read: file is not a database`]);

    const newer = join(parent, 'newer');
    await mkdir(newer);
    const db = new Database(join(newer, 'relay.sqlite'));
    db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    db.close();
    expect((await check({ dataDir: newer })).problems).toEqual([
      `the database in ${newer} has schema version ${SCHEMA_VERSION + 1}, from a newer relay; this relay knows up to ${SCHEMA_VERSION}`,
    ]);
    const badLock = join(parent, 'bad-lock');
    await mkdir(badLock);
    await writeFile(join(badLock, 'relay.lock'), 'not a lock database, but long enough to have a header of sorts '.repeat(20));
    expect((await check({ dataDir: badLock })).problems).toEqual([`cannot tell whether a relay is running on ${badLock}: file is not a database`]);
    // The check changed neither file.
    expect((await readFile(join(garbled, 'relay.sqlite'), 'utf8')).startsWith('not a database')).toBe(true);
  });
});
