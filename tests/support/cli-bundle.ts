import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll } from 'vitest';

const REPO_ROOT = join(import.meta.dirname, '..', '..');

/**
 * A bundle as its npm script builds it, built before the calling file's tests into a folder of their own inside the
 * repository (where a bundle finds node_modules), removed after them. Returns the entry's path, for `node PATH`.
 */
function useBundle(script: string, prefix: string, entry: string): () => string {
  let outdir: string | undefined;
  beforeAll(async () => {
    await mkdir(join(REPO_ROOT, 'dist'), { recursive: true });
    outdir = await mkdtemp(join(REPO_ROOT, 'dist', prefix));
    await promisify(execFile)(process.execPath, [script, '--outdir', outdir], { cwd: REPO_ROOT });
  });
  afterAll(async () => {
    if (outdir !== undefined) await rm(outdir, { recursive: true, force: true });
  });
  return () => {
    if (outdir === undefined) throw new Error('the bundle is built in beforeAll: start it from a test');
    return join(outdir, entry);
  };
}

/** The CLI as `npm run cli` runs it. */
export function useBundledCli(): () => string {
  return useBundle('build/bundle-cli.mjs', 'cli-bundle-', 'parley.mjs');
}

/** The relay as `npm run relay` runs it. */
export function useBundledRelay(): () => string {
  return useBundle('build/bundle-relay.mjs', 'relay-bundle-', 'cli.mjs');
}
