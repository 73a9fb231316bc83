import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { isMainThread } from 'node:worker_threads';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ParleyError } from '../../app/shared/errors.js';
import { toHex } from '../../app/core/crypto/bytes.js';
import { randomBytes } from '../../app/core/crypto/random.js';
import type { KeychainPort } from '../../app/core/vault/keychain.js';
import { openCoreInWorker, type WorkerCore, type WorkerCoreOptions } from '../../app/core/worker/open-core-in-worker.js';
import { startTestRelay, type TestRelay } from '../support/relay.js';
import { useCleanups } from '../support/cleanups.js';
import { freshUsername, nextEvent } from '../support/cores.js';
import { value } from '../support/result.js';

const PASSPHRASE = 'a long enough passphrase';
const repoRoot = path.join(import.meta.dirname, '..', '..');

const cleanups = useCleanups();

const { tempDir } = cleanups;

async function workerCore(options: WorkerCoreOptions): Promise<WorkerCore> {
  const opened = await openCoreInWorker(options);
  cleanups.push(() => opened.close());
  return opened;
}

async function relayForTest(): Promise<TestRelay> {
  const relay = await startTestRelay();
  cleanups.push(() => relay.close());
  return relay;
}

/** An OS keychain stand-in that records each call and the thread it ran on; XOR with a fixed pad is enough to round-trip. */
function fakeKeychain(): KeychainPort & { calls: string[] } {
  const calls: string[] = [];
  const pad = (bytes: Uint8Array): Uint8Array => bytes.map((byte) => byte ^ 0x5a);
  return {
    calls,
    availability() {
      calls.push(`availability on ${isMainThread ? 'host' : 'worker'}`);
      return { available: true };
    },
    seal(secret) {
      calls.push(`seal on ${isMainThread ? 'host' : 'worker'}`);
      return pad(secret);
    },
    open(sealed) {
      calls.push(`open on ${isMainThread ? 'host' : 'worker'}`);
      return pad(sealed);
    },
  };
}

describe('the core in a worker thread', () => {
  it('exchanges messages through a real relay exactly like the in-process core', async () => {
    const relay = await relayForTest();
    const [nameA, nameB] = [freshUsername('a'), freshUsername('b')];
    const a = await workerCore({ profileDir: await tempDir('parley-wa-') });
    const b = await workerCore({ profileDir: await tempDir('parley-wb-') });
    value(await a.invoke('profile.create', { username: nameA, passphrase: PASSPHRASE, relayUrl: relay.url }));
    value(await b.invoke('profile.create', { username: nameB, passphrase: PASSPHRASE, relayUrl: relay.url }));
    await Promise.all([a.whenOnline(), b.whenOnline()]);

    expect(value(await a.invoke('contacts.add', { username: nameB })).username).toBe(nameB);
    const text = `through the worker ${toHex(randomBytes(6))}`;
    const bReceives = nextEvent(b, 'message.added', (message) => message.text === text);
    const sent = value(await a.invoke('messages.send', { contact: nameB, text }));
    expect(sent).toMatchObject({ contact: nameB, direction: 'out', text });
    // B is online: its ACK may reach the relay before the relay's OK to A, so the receipt may already be in.
    expect(['sent', 'delivered']).toContain(sent.status);
    expect(await bReceives).toMatchObject({ id: sent.id, contact: nameA, direction: 'in', text });
    await b.whenSynced();
    expect(value(await b.invoke('contacts.list', {})).map((contact) => contact.username)).toEqual([nameA]);
    expect(value(await b.invoke('messages.list', { contact: nameA })).map((message) => [message.id, message.text, message.direction])).toEqual([[sent.id, text, 'in']]);

    // Errors keep their codes across the thread boundary, for results and for rejections alike.
    const unknown = await a.invoke('contacts.add', { username: nameA });
    expect(unknown.ok ? undefined : unknown.error.code).toBe('CONTACT_IS_SELF');
    await a.lock('user');
    await expect(a.whenOnline(50)).rejects.toMatchObject({ code: 'RELAY_UNREACHABLE' });
  });

  it('calls the host keychain from the worker to enable and use automatic unlock', async () => {
    const relay = await relayForTest();
    const profileDir = await tempDir('parley-wk-');
    const keychain = fakeKeychain();
    let core = await openCoreInWorker({ profileDir, keychain });
    value(await core.invoke('profile.create', { username: freshUsername('k'), passphrase: PASSPHRASE, relayUrl: relay.url }));
    expect(value(await core.invoke('keychain.enable', { passphrase: PASSPHRASE })).keychain).toMatchObject({ available: true, enabled: true });
    expect(keychain.calls).toContain('seal on host');
    await core.close();

    core = await workerCore({ profileDir, keychain });
    expect(value(await core.invoke('profile.status', {}))).toMatchObject({ state: 'locked', autoUnlock: true });
    value(await core.invoke('profile.unlockAuto', {}));
    expect(keychain.calls).toContain('open on host');
    expect(keychain.calls.every((call) => call.endsWith('on host'))).toBe(true);
    expect(value(await core.invoke('profile.status', {})).state).toBe('unlocked');
  });

  it('reports a keychain that refuses with its own code', async () => {
    const profileDir = await tempDir('parley-wr-');
    const refusing: KeychainPort = {
      availability: () => ({ available: false, reason: 'No secret service is running' }),
      seal: () => {
        throw new ParleyError('KEYCHAIN_UNAVAILABLE', 'refused');
      },
      open: () => {
        throw new ParleyError('KEYCHAIN_UNAVAILABLE', 'refused');
      },
    };
    const relay = await relayForTest();
    const core = await workerCore({ profileDir, keychain: refusing });
    value(await core.invoke('profile.create', { username: freshUsername('r'), passphrase: PASSPHRASE, relayUrl: relay.url }));
    expect(value(await core.invoke('settings.get', {})).keychain).toEqual({ available: false, reason: 'No secret service is running', enabled: false });
    const enabled = await core.invoke('keychain.enable', { passphrase: PASSPHRASE });
    expect(enabled.ok ? undefined : enabled.error.code).toBe('KEYCHAIN_UNAVAILABLE');
  });

  it('fails pending and later calls with CORE_WORKER_EXITED when the worker dies', async () => {
    const profileDir = await tempDir('parley-wx-');
    const exits: string[] = [];
    const core = await openCoreInWorker({ profileDir, onExit: (error) => exits.push(error.code) });
    // profile.status is answered from the worker; terminating right after sending it leaves it pending.
    const pending = core.invoke('profile.status', {});
    const waiting = core.whenOnline(60_000);
    await core.terminate();
    const result = await pending;
    expect(result.ok ? undefined : result.error.code).toBe('CORE_WORKER_EXITED');
    await expect(waiting).rejects.toMatchObject({ code: 'CORE_WORKER_EXITED' });
    const later = await core.invoke('profile.status', {});
    expect(later.ok ? undefined : later.error.code).toBe('CORE_WORKER_EXITED');
    expect(exits).toEqual(['CORE_WORKER_EXITED']);
    await core.close();
  });

  it('rejects the open with a code when the core cannot start in the worker', async () => {
    const notAFolder = path.join(await tempDir('parley-wf-'), 'file');
    await writeFile(notAFolder, 'not a profile folder');
    const exits: string[] = [];
    await expect(openCoreInWorker({ profileDir: path.join(notAFolder, 'profile'), onExit: (error) => exits.push(error.code) })).rejects.toBeInstanceOf(ParleyError);
    expect(exits).toEqual([]);
  });

  it('keeps the host thread free while the worker runs a slow call', async () => {
    const relay = await relayForTest();
    const core = await workerCore({ profileDir: await tempDir('parley-wb-') });
    value(await core.invoke('profile.create', { username: freshUsername('s'), passphrase: PASSPHRASE, relayUrl: relay.url }));
    value(await core.invoke('profile.lock', {}));

    // Unlocking runs Argon2id (128 MiB, synchronous) in the worker. On the host's thread it would stall
    // the event loop for all of it; from the worker, the host keeps turning until the answer arrives.
    let settled = false;
    const unlocking = core.invoke('profile.unlock', { passphrase: PASSPHRASE }).finally(() => {
      settled = true;
    });
    let turns = 0;
    while (!settled) {
      await new Promise((resolve) => setImmediate(resolve));
      turns++;
    }
    value(await unlocking);
    // Run on the host's thread this is a handful of turns; from the worker it is hundreds of thousands.
    expect(turns).toBeGreaterThan(1_000);
  });

  it('runs from the bundled dist/main/core-worker.cjs that the Electron main process starts', async () => {
    await promisify(execFile)(process.execPath, [path.join(repoRoot, 'build', 'bundle-electron.mjs')], { cwd: repoRoot });
    const relay = await relayForTest();
    const core = await workerCore({ profileDir: await tempDir('parley-wd-'), workerEntry: path.join(repoRoot, 'dist', 'main', 'core-worker.cjs') });
    const name = freshUsername('d');
    expect(value(await core.invoke('profile.create', { username: name, passphrase: PASSPHRASE, relayUrl: relay.url })).username).toBe(name);
    await core.whenOnline();
    expect(value(await core.invoke('profile.status', {}))).toMatchObject({ state: 'unlocked', username: name });
  });
});
