import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { selfSignedCertificate } from '../support/certificate.js';
import { finished, type CliRun } from '../support/child-output.js';
import { useBundledRelay } from '../support/cli-bundle.js';
import { useCleanups } from '../support/cleanups.js';
import { startTestRelay } from '../support/relay.js';

const cleanups = useCleanups();
const relayBundle = useBundledRelay();

/**
 * The shipped health probe, run as Docker's HEALTHCHECK runs it, with the relay's settings in its environment. Not
 * spawnSync: the relays here run in this process, and must answer while it waits.
 */
function probe(env: Record<string, string>): Promise<CliRun> {
  return finished(spawn(process.execPath, [join(dirname(relayBundle()), 'healthcheck.mjs')], { env: { PATH: process.env.PATH ?? '', ...env } }));
}

describe('the relay health probe (dist/relay/healthcheck.mjs)', () => {
  it('asks the relay its settings describe: plain, or https with a certificate for its public name', async () => {
    const plain = await startTestRelay();
    cleanups.push(() => plain.close());
    expect(await probe({ PARLEY_RELAY_DATA: plain.dataDir, PARLEY_RELAY_PORT: String(plain.port) })).toMatchObject({ code: 0, stdout: '', stderr: '' });

    const dir = await cleanups.tempDir('parley-health-');
    // Issued for the name clients use, as a real one is: not for the loopback address the probe connects to.
    const { certPath, keyPath } = selfSignedCertificate(dir, 'chat.example.org', { subjectAltName: 'DNS:chat.example.org' });
    const tls = await startTestRelay({ tlsCertPath: certPath, tlsKeyPath: keyPath });
    cleanups.push(() => tls.close());
    const tlsEnv = { PARLEY_RELAY_DATA: tls.dataDir, PARLEY_RELAY_PORT: String(tls.port), PARLEY_RELAY_TLS_CERT: certPath, PARLEY_RELAY_TLS_KEY: keyPath };
    expect(await probe(tlsEnv)).toMatchObject({ code: 0, stdout: '', stderr: '' });
    // What the image's health check did before: plain http to a relay that serves https gets no answer.
    await expect(fetch(`http://127.0.0.1:${tls.port}/healthz`)).rejects.toThrow();
  });

  it('exits 1 with the reason when the relay does not answer, and 2 for settings it cannot read', async () => {
    const stopped = await startTestRelay();
    const { dataDir, port } = stopped;
    // Its port, with nothing listening on it any more.
    await stopped.close();
    const down = await probe({ PARLEY_RELAY_DATA: dataDir, PARLEY_RELAY_PORT: String(port) });
    expect(down.code).toBe(1);
    expect(down.stderr).toBe(`relay health: http://127.0.0.1:${port}/healthz: connect ECONNREFUSED 127.0.0.1:${port}\n`);
    expect(await probe({ PARLEY_RELAY_DATA: dataDir, PARLEY_RELAY_PORT: 'seven' })).toMatchObject({ code: 2, stderr: expect.stringMatching(/^relay health: --port must be a whole number/) });
  });
});
