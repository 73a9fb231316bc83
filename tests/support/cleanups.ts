import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach } from 'vitest';

/** What a test opened, undone after each test in reverse order: cores before relays before folders. */
export interface Cleanups {
  push(cleanup: () => Promise<unknown>): void;
  /** A fresh folder under the OS temp dir, removed after the test. */
  tempDir(prefix: string): Promise<string>;
}

export function useCleanups(): Cleanups {
  const pending: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const cleanup of pending.splice(0).reverse()) await cleanup();
  });
  return {
    push: (cleanup) => void pending.push(cleanup),
    tempDir: async (prefix) => {
      const dir = await mkdtemp(path.join(tmpdir(), prefix));
      pending.push(() => rm(dir, { recursive: true, force: true }));
      return dir;
    },
  };
}
