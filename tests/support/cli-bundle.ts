import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll } from 'vitest';

const REPO_ROOT = join(import.meta.dirname, '..', '..');

/**
 * The CLI as `npm run cli` runs it: bundled before the calling file's tests into a folder of their own inside the
 * repository (where a bundle finds node_modules), removed after them. Returns the bundle's path, for `node PATH`.
 */
export function useBundledCli(): () => string {
  let outdir: string | undefined;
  beforeAll(async () => {
    await mkdir(join(REPO_ROOT, 'dist'), { recursive: true });
    outdir = await mkdtemp(join(REPO_ROOT, 'dist', 'cli-bundle-'));
    await promisify(execFile)(process.execPath, ['build/bundle-cli.mjs', '--outdir', outdir], { cwd: REPO_ROOT });
  });
  afterAll(async () => {
    if (outdir !== undefined) await rm(outdir, { recursive: true, force: true });
  });
  return () => {
    if (outdir === undefined) throw new Error('the CLI is bundled in beforeAll: start it from a test');
    return join(outdir, 'parley.mjs');
  };
}
