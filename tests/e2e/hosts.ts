import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test as base } from '@playwright/test';
import { spawnUntil, type Spawned } from './processes.js';

const repoRoot = path.resolve(import.meta.dirname, '../..');
const tsx = path.join(repoRoot, 'node_modules', '.bin', 'tsx');

/** A relay on a free port with its data under dataDir. */
export function startRelay(dataDir: string): Promise<Spawned> {
  return spawnUntil(tsx, ['relay/src/cli.ts', '--host', '127.0.0.1', '--port', '0', '--data', dataDir], /listening on (ws:\/\/\S+)/, repoRoot);
}

export interface Hosts {
  relayUrl: string;
  /** Each devhost's printed address, token included. */
  alice: string;
  bob: string;
}

/** A devhost on a free port over profileDir; `extra` adds flags (e.g. --backups DIR). */
export async function startDevhost(profileDir: string, relayUrl: string, extra: readonly string[] = []): Promise<Spawned> {
  const args = ['app/devhost/cli.ts', '--profile', profileDir, '--port', '0', '--relay', relayUrl, ...extra];
  return spawnUntil(tsx, args, /Parley is running at (http:\/\/\S+)/, repoRoot);
}

/** The first group of the line a spawned process was waited on for (its address). */
export function captured(spawned: Spawned): string {
  const value = spawned.match[1];
  if (value === undefined) throw new Error('the address pattern has no group');
  return value;
}

/** One real relay and two devhosts (each with its own profile) per worker, stopped and removed after. */
export const test = base.extend<object, { hosts: Hosts }>({
  hosts: [
    // eslint-disable-next-line no-empty-pattern -- Playwright requires the destructuring even without dependencies.
    async ({}, use) => {
      const root = await mkdtemp(path.join(tmpdir(), 'parley-e2e-'));
      const started: Spawned[] = [];
      try {
        const relay = await startRelay(path.join(root, 'relay'));
        started.push(relay);
        const relayUrl = captured(relay);
        const devhosts = await Promise.allSettled([
          startDevhost(path.join(root, 'alice'), relayUrl),
          startDevhost(path.join(root, 'bob'), relayUrl),
        ]);
        for (const devhost of devhosts) if (devhost.status === 'fulfilled') started.push(devhost.value);
        const [alice, bob] = devhosts.map((devhost) => {
          if (devhost.status === 'rejected') throw devhost.reason;
          return captured(devhost.value);
        });
        if (alice === undefined || bob === undefined) throw new Error('two devhosts were started');
        await use({ relayUrl, alice, bob });
      } finally {
        await Promise.all(started.map((spawned) => spawned.stop()));
        await rm(root, { recursive: true, force: true });
      }
    },
    { scope: 'worker' },
  ],
});

export { expect } from '@playwright/test';
