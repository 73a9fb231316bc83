import { readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ConnectionState } from '../../app/shared/domain.js';
import { toHex } from '../../app/core/crypto/bytes.js';
import { randomBytes } from '../../app/core/crypto/random.js';
import { openCore, type Core } from '../../app/core/index.js';
import { startRelay, type RelayHandle } from '../../relay/src/server.js';
import { TOKEN_KEY_FILE } from '../../relay/src/tokens.js';
import { useCleanups } from '../support/cleanups.js';
import { value } from '../support/result.js';

const PASSPHRASE = 'a long enough passphrase';
const cleanups = useCleanups();

/** How many frames of `type` the relay has received (its Prometheus counter), 0 when none yet. */
async function framesIn(relay: RelayHandle, type: string): Promise<number> {
  return counter(relay, 'parley_frames_in_total', type);
}

async function counter(relay: RelayHandle, name: string, type: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${relay.port}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}{type="${type}"}`));
  return line === undefined ? 0 : Number(line.split(' ').at(-1));
}

/** Bounded polling, for relay state that has no client event (the token reply). */
async function eventually(check: () => Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** A relay whose clock the test can move, on a data folder that outlives restarts. */
async function relayOn(dataDir: string, clock: { offsetMs: number }, port = 0): Promise<RelayHandle> {
  const relay = await startRelay({ dataDir, host: '127.0.0.1', port, logLevel: 'silent', now: () => Date.now() + clock.offsetMs });
  cleanups.push(() => relay.close());
  return relay;
}

/** One core online on the relay, holding an access token (the relay has sent it a TOKEN). */
async function onlineCore(relay: RelayHandle): Promise<{ core: Core; states: ConnectionState[]; dir: string }> {
  const dir = await cleanups.tempDir('parley-a-');
  const core = await openCore({ profileDir: dir });
  cleanups.push(() => core.close());
  const states: ConnectionState[] = [];
  core.on('connection.changed', (state) => states.push(state));
  value(await core.invoke('profile.create', { username: `a${toHex(randomBytes(5))}`, passphrase: PASSPHRASE, relayUrl: relay.url }));
  await eventually(async () => (await counter(relay, 'parley_frames_out_total', 'TOKEN')) === 1);
  return { core, states, dir };
}

/** Restart the relay on the same port and wait for the core to be back online. */
async function restart(relay: RelayHandle, dataDir: string, clock: { offsetMs: number }, core: Core, beforeStart = async (): Promise<void> => undefined): Promise<RelayHandle> {
  const offline = new Promise<void>((resolve) => {
    const off = core.on('connection.changed', (state) => {
      if (state.state !== 'offline') return;
      off();
      resolve();
    });
  });
  await relay.close();
  await offline;
  await beforeStart();
  const next = await relayOn(dataDir, clock, relay.port);
  await core.whenOnline(15_000);
  return next;
}

/** Connection states after the relay went down: connecting and online only, no error shown for the token. */
function afterOutage(states: ConnectionState[]): ConnectionState[] {
  return states.slice(states.findIndex((state) => state.state === 'offline') + 1);
}

describe('access tokens for reconnection', () => {
  it('reconnects with RESUME, no signature, after the relay restarts with the same key', async () => {
    const dataDir = await cleanups.tempDir('parley-relay-');
    const clock = { offsetMs: 0 };
    const relay = await relayOn(dataDir, clock);
    const { core, states } = await onlineCore(relay);
    expect(await framesIn(relay, 'TOKEN_REQUEST')).toBe(1);

    const restarted = await restart(relay, dataDir, clock, core);
    expect(await framesIn(restarted, 'RESUME')).toBe(1);
    expect(await framesIn(restarted, 'AUTH')).toBe(0);
    expect(afterOutage(states).every((state) => state.error === undefined || state.error.code === 'RELAY_UNREACHABLE')).toBe(true);
    expect(afterOutage(states).at(-1)).toEqual({ state: 'online' });
    // The resumed connection works: the core can use the relay, and it asks for a fresh token.
    const lookup = await core.invoke('contacts.add', { username: `nobody${toHex(randomBytes(4))}` });
    expect(lookup.ok ? undefined : lookup.error.code).toBe('CONTACT_UNKNOWN_USER');
    await eventually(async () => (await framesIn(restarted, 'TOKEN_REQUEST')) === 1);
  });

  it('falls back to the signed challenge, without a visible error, when the relay has a new signing key', async () => {
    const dataDir = await cleanups.tempDir('parley-relay-');
    const clock = { offsetMs: 0 };
    const relay = await relayOn(dataDir, clock);
    const { core, states } = await onlineCore(relay);

    const restarted = await restart(relay, dataDir, clock, core, () => rm(path.join(dataDir, TOKEN_KEY_FILE)));
    expect(await framesIn(restarted, 'RESUME')).toBe(1);
    expect(await framesIn(restarted, 'AUTH')).toBe(1);
    const seen = afterOutage(states);
    expect(seen.map((state) => state.state)).toEqual(['connecting', 'online']);
    expect(seen.every((state) => state.error === undefined)).toBe(true);
  });

  it('falls back to the signed challenge when the relay finds the token expired', async () => {
    const dataDir = await cleanups.tempDir('parley-relay-');
    const clock = { offsetMs: 0 };
    const relay = await relayOn(dataDir, clock);
    const { core, states } = await onlineCore(relay);

    // The relay's clock runs an hour ahead after its restart: our estimate says the token is fresh, the relay says expired.
    const restarted = await restart(relay, dataDir, clock, core, async () => {
      clock.offsetMs = 60 * 60_000;
    });
    expect(await framesIn(restarted, 'RESUME')).toBe(1);
    expect(await framesIn(restarted, 'AUTH')).toBe(1);
    expect(afterOutage(states).map((state) => state.state)).toEqual(['connecting', 'online']);
  });

  it('keeps the token in memory only: not in the profile folder, and not after locking', async () => {
    const dataDir = await cleanups.tempDir('parley-relay-');
    const clock = { offsetMs: 0 };
    const relay = await relayOn(dataDir, clock);
    const { core, dir } = await onlineCore(relay);
    value(await core.invoke('profile.lock', {}));
    value(await core.invoke('profile.unlock', { passphrase: PASSPHRASE }));
    await core.whenOnline(15_000);
    // A lock forgets the token: the next connection signs the challenge again.
    expect(await framesIn(relay, 'RESUME')).toBe(0);
    expect(await framesIn(relay, 'AUTH')).toBe(1);
    await core.close();
    const files = await readdir(dir, { recursive: true, withFileTypes: true });
    for (const entry of files.filter((e) => e.isFile())) {
      // A JWT starts with the base64url of '{"alg":"EdDSA"': it must be nowhere on disk.
      expect((await readFile(path.join(entry.parentPath, entry.name))).includes('eyJhbGciOiJFZERTQSI')).toBe(false);
    }
  });
});
