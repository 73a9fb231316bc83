import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toHex } from '../../app/core/crypto/bytes.js';
import { randomBytes } from '../../app/core/crypto/random.js';
import { deriveSubkey } from '../../app/core/crypto/kdf.js';
import { loadSodium } from '../../app/core/crypto/sodium.js';
import { openCore } from '../../app/core/index.js';
import { openDatabase } from '../../app/core/store/db.js';
import { openWithPassphrase } from '../../app/core/vault/keyring.js';
import { readVaultFile } from '../../app/core/vault/vault-file.js';
import { startTestRelay } from '../support/relay.js';
import { finished, type CliRun } from '../support/child-output.js';
import { useBundledCli } from '../support/cli-bundle.js';

const root = join(import.meta.dirname, '..', '..');
const cliBundle = useBundledCli();
const PASSPHRASE = 'correct horse battery staple';
const NEW_PASSPHRASE = 'violet harbour lanterns at dusk';
const BACKUP_PASSPHRASE = 'a separate backup passphrase here';

type Env = Record<string, string>;

function startCli(profile: string, args: string[], env: Env = {}): ChildProcess {
  // Only the variables a test sets reach the CLI, so a developer's own PARLEY_* settings cannot interfere.
  const base: NodeJS.ProcessEnv = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('PARLEY_')));
  base.PARLEY_PASSPHRASE = PASSPHRASE;
  // One process, node itself (no wrapper that forks): kill -9 must hit the CLI itself.
  return spawn(process.execPath, ['--enable-source-maps', cliBundle(), '--profile', profile, ...args], { cwd: root, env: { ...base, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
}

function runCli(profile: string, args: string[], env: Env = {}): Promise<CliRun> {
  const child = startCli(profile, args, env);
  child.stdin?.end();
  return finished(child);
}

async function ok(profile: string, args: string[], env: Env = {}): Promise<string[]> {
  const run = await runCli(profile, args, env);
  expect(run.code, `${args.join(' ')}: ${run.stderr}`).toBe(0);
  return run.stdout.split('\n').filter((line) => line !== '');
}

async function failsWith(profile: string, args: string[], env: Env, code: string): Promise<void> {
  const run = await runCli(profile, args, env);
  expect(run.code, run.stdout).toBe(1);
  expect(run.stderr).toMatch(new RegExp(`^error ${code}: .+\\n$`));
}

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((entry) => entry.isFile()).map((entry) => join(entry.parentPath, entry.name));
}

async function leaks(dir: string, canaries: readonly string[]): Promise<string[]> {
  const found: string[] = [];
  for (const file of await filesUnder(dir)) {
    const bytes = await readFile(file);
    for (const canary of canaries) if (bytes.includes(canary)) found.push(`${canary} in ${file}`);
  }
  return found;
}

/** Print lines of a child as they come; resolves when `count` lines matched. */
function collectLines(child: ChildProcess, matches: (line: string) => boolean): { lines: string[]; once(count: number): Promise<void> } {
  const lines: string[] = [];
  const waiters: Array<{ count: number; resolve(): void }> = [];
  const reader = createInterface({ input: child.stdout ?? process.stdin });
  reader.on('line', (line) => {
    if (!matches(line)) return;
    lines.push(line);
    for (const waiter of waiters.filter((w) => lines.length >= w.count)) waiter.resolve();
  });
  return {
    lines,
    once: (count) => (lines.length >= count ? Promise.resolve() : new Promise((resolve) => waiters.push({ count, resolve }))),
  };
}

describe('CLI: recovery key, passphrase, search, backups, crash safety', () => {
  let relay: Awaited<ReturnType<typeof startTestRelay>>;
  let tmp: string;
  const run = toHex(randomBytes(3));
  const alice = `alice-${run}`;
  const bob = `bob-${run}`;
  let aliceDir: string;
  let bobDir: string;
  let bobRecoveryKey = '';

  beforeAll(async () => {
    relay = await startTestRelay();
    tmp = await mkdtemp(join(tmpdir(), 'parley-cli-vault-'));
    aliceDir = join(tmp, 'alice');
    bobDir = join(tmp, 'bob');
    const [a, b] = await Promise.all([
      ok(aliceDir, ['init', '--username', alice, '--relay', relay.url]),
      ok(bobDir, ['init', '--username', bob, '--relay', relay.url]),
    ]);
    expect(a.filter((line) => line.startsWith('Recovery key: '))).toHaveLength(1);
    bobRecoveryKey = (b.find((line) => line.startsWith('Recovery key: ')) ?? '').slice('Recovery key: '.length);
    expect(bobRecoveryKey).toMatch(/^[0-9A-Z]{4}(-[0-9A-Z]{4}){7}$/);
    await ok(aliceDir, ['contacts', 'add', bob]);
    await ok(aliceDir, ['send', bob, 'the lighthouse canary-text-93af is lit']);
    await ok(bobDir, ['inbox']);
  }, 180_000);

  afterAll(async () => {
    await relay?.close();
    if (tmp !== undefined) await rm(tmp, { recursive: true, force: true });
  });

  it('search finds messages by prefix and filter', async () => {
    expect(await ok(bobDir, ['search', 'lightho', `from:${alice}`])).toEqual([expect.stringMatching(new RegExp(`^\\S+Z ${alice} -> ${bob}: the lighthouse canary-text-93af is lit$`))]);
    expect(await ok(bobDir, ['search', 'lighthouse', 'from:me'])).toEqual([]);
    await failsWith(bobDir, ['search', 'before:someday'], {}, 'SEARCH_BAD_QUERY');
  }, 60_000);

  it('backs up a profile, refuses bad backups and busy targets, and restores it whole into a fresh folder', async () => {
    const backup = join(tmp, 'bob.parley-backup');
    await ok(bobDir, ['backup', 'export', backup], { PARLEY_BACKUP_PASSPHRASE: BACKUP_PASSPHRASE });
    await failsWith(bobDir, ['backup', 'export', join(tmp, 'weak.bk')], { PARLEY_BACKUP_PASSPHRASE: 'password1' }, 'VAULT_WEAK_PASSPHRASE');

    const fresh = join(tmp, 'bob-restored');
    await failsWith(fresh, ['backup', 'import', backup], { PARLEY_BACKUP_PASSPHRASE: 'not the backup passphrase' }, 'BACKUP_WRONG_KEY');
    const bytes = await readFile(backup);
    await writeFile(join(tmp, 'cut.bk'), bytes.subarray(0, bytes.length - 100));
    await failsWith(fresh, ['backup', 'import', join(tmp, 'cut.bk')], { PARLEY_BACKUP_PASSPHRASE: BACKUP_PASSPHRASE }, 'BACKUP_CORRUPT');
    await writeFile(join(tmp, 'other.bk'), 'just some text file');
    await failsWith(fresh, ['backup', 'import', join(tmp, 'other.bk')], { PARLEY_BACKUP_PASSPHRASE: BACKUP_PASSPHRASE }, 'BACKUP_NOT_OURS');
    expect(await readdir(fresh).catch(() => [])).toEqual([]);

    // Into a folder that already holds a profile: refused, and the profile is untouched.
    const aliceVault = await readFile(join(aliceDir, 'vault.json'));
    await failsWith(aliceDir, ['backup', 'import', backup], { PARLEY_BACKUP_PASSPHRASE: BACKUP_PASSPHRASE }, 'BACKUP_TARGET_NOT_EMPTY');
    expect(await readFile(join(aliceDir, 'vault.json'))).toEqual(aliceVault);

    await ok(fresh, ['backup', 'import', backup], { PARLEY_BACKUP_PASSPHRASE: BACKUP_PASSPHRASE });
    expect(await ok(fresh, ['contacts', 'list'])).toEqual(await ok(bobDir, ['contacts', 'list']));
    expect(await ok(fresh, ['search', 'canary'])).toEqual(await ok(bobDir, ['search', 'canary']));
    // The keys came along: the restored profile authenticates as bob and opens a new message from alice.
    await ok(aliceDir, ['send', bob, 'after the restore']);
    expect(await ok(fresh, ['inbox'])).toEqual([`${alice}: after the restore`]);

    const canaries = ['canary-text-93af', 'after the restore', alice, bob];
    expect(await leaks(fresh, canaries)).toEqual([]);
    expect(await leaks(bobDir, canaries)).toEqual([]);
    expect((await readFile(backup)).includes('canary-text-93af')).toBe(false);
  }, 180_000);

  it('changes the passphrase, then resets it with the recovery key; each time the old one stops working', async () => {
    const profile = join(tmp, 'bob-restored');
    await ok(profile, ['passphrase', 'change'], { PARLEY_NEW_PASSPHRASE: NEW_PASSPHRASE });
    await failsWith(profile, ['contacts', 'list'], {}, 'VAULT_WRONG_PASSPHRASE');
    expect(await ok(profile, ['contacts', 'list'], { PARLEY_PASSPHRASE: NEW_PASSPHRASE })).toEqual([alice]);

    await failsWith(profile, ['recover'], { PARLEY_RECOVERY_KEY: 'AAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AAAA', PARLEY_NEW_PASSPHRASE: PASSPHRASE }, 'VAULT_WRONG_RECOVERY_KEY');
    expect(await ok(profile, ['recover'], { PARLEY_RECOVERY_KEY: bobRecoveryKey, PARLEY_NEW_PASSPHRASE: 'brand new words for the vault' })).toEqual([`Passphrase reset for ${bob}`]);
    await failsWith(profile, ['contacts', 'list'], { PARLEY_PASSPHRASE: NEW_PASSPHRASE }, 'VAULT_WRONG_PASSPHRASE');
    expect(await ok(profile, ['contacts', 'list'], { PARLEY_PASSPHRASE: 'brand new words for the vault' })).toEqual([alice]);
  }, 120_000);

  it('kill -9 during a burst: every acknowledged message is stored once, and the relay redelivers the rest', async () => {
    const burst = 200;
    const listener = startCli(bobDir, ['listen']);
    const closed = new Promise((resolve) => listener.once('close', resolve));
    listener.stdin?.end();
    const printed = collectLines(listener, (line) => line.startsWith(`${alice}: burst `));
    const sender = await openCore({ profileDir: aliceDir, idleLock: false });
    try {
      expect((await sender.invoke('profile.unlock', { passphrase: PASSPHRASE })).ok).toBe(true);
      await sender.whenOnline();
      // listen prints nothing until online: the first message proves it is connected before the burst.
      expect((await sender.invoke('messages.send', { contact: bob, text: 'burst 0' })).ok).toBe(true);
      await printed.once(1);
      // Half the burst is in flight when the listener dies at its first printed line; the other half arrives while it is dead.
      const half = burst / 2;
      const send = (from: number, count: number) =>
        Promise.all(Array.from({ length: count }, (_, i) => sender.invoke('messages.send', { contact: bob, text: `burst ${from + i}` })));
      const first = send(1, half);
      await printed.once(2);
      listener.kill('SIGKILL');
      await closed;
      const second = send(1 + half, half);
      // Sent, or already delivered when the listener's ACK beat the relay's OK.
      expect([...(await first), ...(await second)].every((result) => result.ok && ['sent', 'delivered'].includes(result.value.status))).toBe(true);
    } finally {
      if (listener.exitCode === null) listener.kill('SIGKILL');
      await sender.close();
    }
    // What a crash leaves on disk, WAL included, holds no message text or username in the clear.
    expect((await filesUnder(bobDir)).some((file) => file.endsWith('parley.db-wal'))).toBe(true);
    expect(await leaks(bobDir, ['burst 1', alice, bob])).toEqual([]);

    const acknowledged = burst + 1 - relay.queueDepth(bob);
    // At least the half sent after the crash is still queued on the relay.
    expect(acknowledged).toBeLessThanOrEqual(burst + 1 - burst / 2);
    const storedAfterCrash = await storedTexts(bobDir, PASSPHRASE, 'burst ');
    expect(new Set(storedAfterCrash).size).toBe(storedAfterCrash.length);
    expect(storedAfterCrash.length).toBeGreaterThanOrEqual(acknowledged);

    await ok(bobDir, ['inbox']);
    expect(relay.queueDepth(bob)).toBe(0);
    const stored = await storedTexts(bobDir, PASSPHRASE, 'burst ');
    expect(stored.sort()).toEqual(Array.from({ length: burst + 1 }, (_, i) => `burst ${i}`).sort());
  }, 120_000);
});

/** Read message texts straight from the encrypted database file, as a crashed process left it. */
async function storedTexts(profileDir: string, passphrase: string, prefix: string): Promise<string[]> {
  const sodium = await loadSodium();
  const vault = await readVaultFile(join(profileDir, 'vault.json'));
  if (vault === undefined) throw new Error('no vault');
  const masterKey = openWithPassphrase(sodium, vault, passphrase);
  const db = openDatabase(join(profileDir, 'parley.db'), deriveSubkey(sodium, masterKey, 'database'));
  try {
    return db
      .prepare<[string], { text: string }>('SELECT text FROM messages WHERE text LIKE ? ORDER BY seq')
      .all(`${prefix}%`)
      .map((row) => row.text);
  } finally {
    db.close();
  }
}
