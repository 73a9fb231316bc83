import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';
import { toHex } from '../../app/core/crypto/bytes.js';
import { randomBytes } from '../../app/core/crypto/random.js';
import { finished, type CliRun } from '../support/child-output.js';
import { useBundledCli } from '../support/cli-bundle.js';
import { useCleanups } from '../support/cleanups.js';
import { STEP_MS, codeAt, wrongCode } from '../support/totp.js';
import { startTestRelay } from '../support/relay.js';

const root = join(import.meta.dirname, '..', '..');
const cliBundle = useBundledCli();
const PASSPHRASE = 'correct horse battery staple';
const cleanups = useCleanups();


function startCli(profile: string, args: string[], totpCode?: string): ChildProcess {
  const env: NodeJS.ProcessEnv = { ...process.env, PARLEY_PASSPHRASE: PASSPHRASE };
  delete env.PARLEY_RELAY_URL;
  delete env.PARLEY_TOTP_CODE;
  if (totpCode !== undefined) env.PARLEY_TOTP_CODE = totpCode;
  return spawn(process.execPath, ['--enable-source-maps', cliBundle(), '--profile', profile, ...args], { cwd: root, env, stdio: ['pipe', 'pipe', 'pipe'] });
}


/** Run one command with stdin closed (as a script without a terminal would). */
function runCli(profile: string, args: string[], totpCode?: string): Promise<CliRun> {
  const child = startCli(profile, args, totpCode);
  child.stdin?.end();
  return finished(child);
}

/** The first stdout line that satisfies `wanted`; rejects if the child exits first. */
function lineMatching(child: ChildProcess, wanted: (line: string) => boolean): Promise<string> {
  const stdout = child.stdout;
  if (stdout === null) return Promise.reject(new Error('no stdout'));
  return new Promise((resolve, reject) => {
    createInterface({ input: stdout }).on('line', (line) => {
      if (wanted(line)) resolve(line);
    });
    child.once('exit', (code) => reject(new Error(`exited with ${String(code)} before the expected line`)));
  });
}

describe('parley lock (CLI as a child process against a real relay)', () => {
  it('enables with a QR code and one code, moves the name to a new machine with PARLEY_TOTP_CODE, and disables', async () => {
    // The relay's clock is the test's, moved one TOTP step before each code so no code is reused.
    const clock = { now: 1_800_000_000_000 };
    const relay = await startTestRelay({ now: () => clock.now, rateLimits: { totp: { points: 20, durationMs: 15 * 60_000 } } });
    cleanups.push(() => relay.close());
    const [first, second] = [await cleanups.tempDir('parley-cli-lock-a-'), await cleanups.tempDir('parley-cli-lock-b-')];
    const name = `lock${toHex(randomBytes(4))}`;

    const init = await runCli(first, ['init', '--username', name, '--relay', relay.url]);
    expect(init.code, init.stderr).toBe(0);
    expect((await runCli(first, ['lock', 'status'])).stdout).toBe('Registration lock: off\n');

    // enable: the secret comes from the printed otpauth URI; the code is computed here and typed on stdin.
    const enabling = startCli(first, ['lock', 'enable']);
    const enabled = finished(enabling);
    const uriLine = await lineMatching(enabling, (line) => line.startsWith('otpauth://'));
    const uri = new URL(uriLine);
    expect(uriLine.startsWith(`otpauth://totp/Parley:${name}?`)).toBe(true);
    const secret = uri.searchParams.get('secret') ?? '';
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    enabling.stdin?.end(`${codeAt(secret, clock.now)}\n`);
    const enableRun = await enabled;
    expect(enableRun.code, enableRun.stderr).toBe(0);
    // The terminal QR code (half blocks) comes before the URI, the key after it.
    const out = enableRun.stdout.split('\n');
    expect(out.slice(0, out.indexOf(uriLine)).some((line) => /[▀▄█]{10}/.test(line))).toBe(true);
    expect(out).toContain(`Key: ${secret}`);
    expect(out.at(-2)).toBe('Registration lock: on');
    expect(enableRun.stderr).toContain('Code from the authenticator app');
    expect((await runCli(first, ['lock', 'status'])).stdout).toBe('Registration lock: on\n');

    // A new machine: without a code the name is simply taken (and the CLI says how to pass one); a wrong code is refused.
    clock.now += STEP_MS;
    const taken = await runCli(second, ['init', '--username', name, '--relay', relay.url]);
    expect(taken.code).toBe(1);
    expect(taken.stderr).toMatch(/^error RELAY_USERNAME_TAKEN: .*PARLEY_TOTP_CODE/);
    const wrong = await runCli(second, ['init', '--username', name, '--relay', relay.url], wrongCode(secret, clock.now));
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/^error REGLOCK_INVALID_CODE: /);
    const moved = await runCli(second, ['init', '--username', name, '--relay', relay.url], codeAt(secret, clock.now));
    expect(moved.code, moved.stderr).toBe(0);
    expect(moved.stdout).toContain(`Registered ${name} on ${relay.url}\nRegistration lock: on (the username moved to this profile)\n`);
    expect((await runCli(second, ['lock', 'status'])).stdout).toBe('Registration lock: on\n');

    // disable: a wrong code changes nothing; a right one (from stdin) turns it off.
    clock.now += STEP_MS;
    const refused = await runCli(second, ['lock', 'disable'], wrongCode(secret, clock.now));
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^error REGLOCK_INVALID_CODE: /);
    const disabling = startCli(second, ['lock', 'disable']);
    const disabled = finished(disabling);
    disabling.stdin?.end(`${codeAt(secret, clock.now)}\n`);
    const disableRun = await disabled;
    expect(disableRun.code, disableRun.stderr).toBe(0);
    expect(disableRun.stdout).toBe('Registration lock: off\n');
    expect((await runCli(second, ['lock', 'status'])).stdout).toBe('Registration lock: off\n');
  }, 120_000); // a dozen CLI processes in turn, each loading the core and unlocking its vault

  it('asks for a code it cannot get, and refuses an unknown lock command as a usage error', async () => {
    const relay = await startTestRelay();
    cleanups.push(() => relay.close());
    const profile = await cleanups.tempDir('parley-cli-lock-');
    expect((await runCli(profile, ['init', '--username', `nc${toHex(randomBytes(4))}`, '--relay', relay.url])).code).toBe(0);
    const noCode = await runCli(profile, ['lock', 'disable']);
    expect(noCode.code).toBe(1);
    expect(noCode.stderr).toContain('error VALIDATION_FAILED: No code: set PARLEY_TOTP_CODE');
    const usage = await runCli(profile, ['lock', 'on']);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('usage: parley lock status|enable|disable');
  });
});
