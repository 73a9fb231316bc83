import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRelay } from '../support/relay.js';
import { finished, type CliRun } from '../support/child-output.js';
import { useBundledCli } from '../support/cli-bundle.js';

const root = join(import.meta.dirname, '..', '..');
const cliBundle = useBundledCli();
const PASSPHRASE = 'correct horse battery staple';


/** null runs the CLI with PARLEY_PASSPHRASE unset. */
function cliEnv(passphrase: string | null): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.PARLEY_RELAY_URL;
  delete env.PARLEY_PASSPHRASE;
  if (passphrase !== null) env.PARLEY_PASSPHRASE = passphrase;
  return env;
}

function startCli(profile: string, args: string[], passphrase: string | null = PASSPHRASE): ChildProcess {
  return spawn(process.execPath, ['--enable-source-maps', cliBundle(), '--profile', profile, ...args], { cwd: root, env: cliEnv(passphrase), stdio: ['pipe', 'pipe', 'pipe'] });
}

/** Run one CLI command to completion. */
function runCli(profile: string, args: string[], passphrase: string | null = PASSPHRASE): Promise<CliRun> {
  const child = startCli(profile, args, passphrase);
  child.stdin?.end();
  return finished(child);
}

function lines(text: string): string[] {
  return text.split('\n').filter((line) => line.length > 0);
}

/** Resolve when the child prints exactly this line on stdout; reject if it exits first. */
function waitForLine(child: ChildProcess, wanted: string): Promise<void> {
  const stdout = child.stdout;
  if (stdout === null) return Promise.reject(new Error('no stdout'));
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise((resolve, reject) => {
    const reader = createInterface({ input: stdout });
    reader.on('line', (line) => {
      if (line === wanted) resolve();
    });
    child.once('exit', (code) => reject(new Error(`exited with ${String(code)} before printing "${wanted}": ${stderr}`)));
  });
}

function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

/** A loopback port with nothing listening on it. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

describe('parley CLI against a real relay', () => {
  let relay: Awaited<ReturnType<typeof startTestRelay>>;
  let tmp: string;
  let alice: string;
  let bob: string;

  beforeAll(async () => {
    relay = await startTestRelay();
    tmp = await mkdtemp(join(tmpdir(), 'parley-cli-'));
    alice = join(tmp, 'alice');
    bob = join(tmp, 'bob');
    const [a, b] = await Promise.all([
      runCli(alice, ['init', '--username', 'alice-x', '--relay', relay.url]),
      runCli(bob, ['init', '--username', 'bob-x', '--relay', relay.url]),
    ]);
    for (const [run, name] of [[a, 'alice-x'], [b, 'bob-x']] as const) {
      expect(run.code, run.stderr).toBe(0);
      expect(lines(run.stdout)[0]).toBe(`Registered ${name} on ${relay.url}`);
      expect(lines(run.stdout).filter((line) => /^Recovery key: [0-9A-Z]{4}(-[0-9A-Z]{4}){7}$/.test(line))).toHaveLength(1);
    }
  }, 120_000);

  afterAll(async () => {
    await relay?.close();
    if (tmp !== undefined) await rm(tmp, { recursive: true, force: true });
  });

  it('adds contacts, sends, and reads the inbox both ways', async () => {
    const [addBob, addAlice] = await Promise.all([runCli(alice, ['contacts', 'add', 'bob-x']), runCli(bob, ['contacts', 'add', 'alice-x'])]);
    expect(addBob.code, addBob.stderr).toBe(0);
    expect(addAlice.code, addAlice.stderr).toBe(0);

    const list = await runCli(alice, ['contacts', 'list']);
    expect(list.code, list.stderr).toBe(0);
    expect(lines(list.stdout)).toEqual(['bob-x']);

    const sent = await runCli(alice, ['send', 'bob-x', 'hello bob, this is alice']);
    expect(sent, sent.stderr).toMatchObject({ code: 0, stdout: 'sent\n' });

    const bobInbox = await runCli(bob, ['inbox']);
    expect(bobInbox.code, bobInbox.stderr).toBe(0);
    expect(lines(bobInbox.stdout)).toEqual(['alice-x: hello bob, this is alice']);
    // Delivered and acknowledged: nothing is left queued for bob.
    expect(await relay.queueDepth('bob-x')).toBe(0);

    const reply = await runCli(bob, ['send', 'alice-x', 'hi alice']);
    expect(reply, reply.stderr).toMatchObject({ code: 0, stdout: 'sent\n' });

    const aliceInbox = await runCli(alice, ['inbox']);
    expect(aliceInbox.code, aliceInbox.stderr).toBe(0);
    expect(lines(aliceInbox.stdout)).toEqual(['bob-x: hi alice']);

    const again = await runCli(bob, ['inbox']);
    expect(again.code, again.stderr).toBe(0);
    expect(lines(again.stdout)).toEqual([]);
  }, 180_000);

  it('safety prints the same digits on both sides, in groups, with a QR code', async () => {
    const [fromAlice, fromBob] = await Promise.all([runCli(alice, ['safety', 'bob-x']), runCli(bob, ['safety', 'alice-x'])]);
    expect(fromAlice.code, fromAlice.stderr).toBe(0);
    expect(fromBob.code, fromBob.stderr).toBe(0);
    const digitLines = (out: string): string[] => lines(out).filter((line) => /^ {2}\d{5}( \d{5}){3}$/.test(line));
    expect(digitLines(fromAlice.stdout)).toHaveLength(3);
    expect(digitLines(fromBob.stdout)).toEqual(digitLines(fromAlice.stdout));
    expect(lines(fromAlice.stdout)[0]).toBe('Safety number with bob-x:');
    expect(fromAlice.stdout).toMatch(/[▀▄█]/);
    expect(lines(fromAlice.stdout).at(-1)).toBe(`PARLEY-SAFETY-1:${digitLines(fromAlice.stdout).join('').replace(/ /g, '')}`);
  }, 60_000);

  it('listen prints a message as it arrives and exits cleanly on SIGTERM', async () => {
    const listener = startCli(bob, ['listen']);
    listener.stdin?.end();
    try {
      const received = waitForLine(listener, 'alice-x: live one');
      const sent = await runCli(alice, ['send', 'bob-x', 'live one']);
      expect(sent, sent.stderr).toMatchObject({ code: 0, stdout: 'sent\n' });
      await received;
      listener.kill('SIGTERM');
      expect(await exited(listener)).toBe(0);
    } finally {
      if (listener.exitCode === null) listener.kill('SIGKILL');
    }
  }, 120_000);

  it('listen also prints when a message sent earlier reaches its recipient', async () => {
    const text = 'read me when you are back';
    // Bob is offline: the message is sent, not yet delivered, and the send command has exited.
    const sent = await runCli(alice, ['send', 'bob-x', text]);
    expect(sent, sent.stderr).toMatchObject({ code: 0, stdout: 'sent\n' });
    const bobInbox = await runCli(bob, ['inbox']);
    expect(lines(bobInbox.stdout)).toContain(`alice-x: ${text}`);

    // The receipt waited at the relay for alice; her next connection brings it.
    const listener = startCli(alice, ['listen']);
    listener.stdin?.end();
    try {
      await waitForLine(listener, `delivered to bob-x: ${text}`);
      listener.kill('SIGTERM');
      expect(await exited(listener)).toBe(0);
    } finally {
      if (listener.exitCode === null) listener.kill('SIGKILL');
    }
  }, 120_000);

  it('refuses a wrong passphrase with VAULT_WRONG_PASSPHRASE', async () => {
    const run = await runCli(alice, ['contacts', 'list'], 'not the passphrase');
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^error VAULT_WRONG_PASSPHRASE: .+\n$/);
    expect(run.stdout).toBe('');
  }, 60_000);

  it('fails clearly without a passphrase when stdin is not a terminal', async () => {
    const run = await runCli(alice, ['contacts', 'list'], null);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^error VALIDATION_FAILED: .*PARLEY_PASSPHRASE.*\n$/);
  }, 60_000);

  it('reports an unknown user as CONTACT_UNKNOWN_USER', async () => {
    const run = await runCli(alice, ['contacts', 'add', 'nobody-here']);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^error CONTACT_UNKNOWN_USER: .+\n$/);
  }, 60_000);

  it('reports a relay that is not listening as RELAY_UNREACHABLE', async () => {
    const port = await closedPort();
    const run = await runCli(join(tmp, 'carol'), ['init', '--username', 'carol-x', '--relay', `ws://127.0.0.1:${port}`]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^error RELAY_UNREACHABLE: .+\n$/);
  }, 60_000);

  it('exits 2 with usage on an unknown command or option', async () => {
    for (const args of [['frobnicate'], [], ['contacts', 'remove', 'bob-x'], ['inbox', '--bogus']]) {
      const run = await runCli(alice, args);
      expect(run.code, args.join(' ')).toBe(2);
      expect(run.stderr, args.join(' ')).toContain('usage: parley');
    }
  }, 60_000);
});
