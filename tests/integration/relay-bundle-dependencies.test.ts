import { spawnSync } from 'node:child_process';
import { cp, readFile, symlink } from 'node:fs/promises';
import { isBuiltin } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { useCleanups } from '../support/cleanups.js';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** The part of esbuild's metafile read here. */
interface Metafile {
  readonly inputs: Readonly<Record<string, unknown>>;
  readonly outputs: Readonly<Record<string, { readonly imports: ReadonlyArray<{ readonly path: string; readonly external?: boolean }> }>>;
}

/** The npm package an import names: `ws`, `@scope/name`, `prom-client` for `prom-client/lib/x.js`. */
function packageOf(specifier: string): string {
  const parts = specifier.split('/');
  return (specifier.startsWith('@') ? parts.slice(0, 2) : parts.slice(0, 1)).join('/');
}

/** The packages of these imports that are neither Node built-ins nor in `dependencies`. */
function notShipped(imports: Iterable<string>, dependencies: Readonly<Record<string, string>>): string[] {
  const packages = new Set<string>();
  for (const specifier of imports) if (!isBuiltin(specifier)) packages.add(packageOf(specifier));
  return [...packages].filter((name) => !(name in dependencies)).sort();
}

/** What relay/Dockerfile's build stage copies from the repository (`COPY SRC... DEST`, not `--from=`). */
function dockerCopies(dockerfile: string): Set<string> {
  const copied = new Set<string>();
  for (const line of dockerfile.split('\n')) {
    const words = line.trim().split(/\s+/);
    if (words[0] !== 'COPY' || words.some((w) => w.startsWith('--from='))) continue;
    for (const source of words.slice(1, -1)) copied.add(source.replace(/\/$/, ''));
  }
  return copied;
}

describe('the relay bundle as the Docker image ships it (npm prune --omit=dev, only what relay/Dockerfile copies)', () => {
  const cleanups = useCleanups();

  it('imports only Node built-ins and packages in dependencies, and reads only sources the image copies', async () => {
    const outdir = await cleanups.tempDir('parley-relay-bundle-');
    const metafilePath = join(outdir, 'meta.json');
    const built = spawnSync(process.execPath, ['build/bundle-relay.mjs', '--outdir', outdir, '--metafile', metafilePath], { cwd: REPO_ROOT, encoding: 'utf8' });
    expect(built.stderr).toBe('');
    expect(built.status).toBe(0);
    const meta = JSON.parse(await readFile(metafilePath, 'utf8')) as Metafile;
    const pkg = JSON.parse(await readFile(join(REPO_ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };

    const imports = Object.values(meta.outputs).flatMap((output) => output.imports.filter((i) => i.external === true).map((i) => i.path));
    // The relay's own packages are there: the metafile was read as meant.
    expect(imports).toContain('ws');
    expect(imports).toContain('better-sqlite3-multiple-ciphers');
    // A package only in devDependencies is gone from the image, and the relay would not start there.
    expect(notShipped(imports, pkg.dependencies)).toEqual([]);

    const copied = dockerCopies(await readFile(join(REPO_ROOT, 'relay/Dockerfile'), 'utf8'));
    expect(copied).toContain('relay');
    const sources = Object.keys(meta.inputs).filter((path) => !path.startsWith('node_modules/'));
    expect(sources).toContain('relay/src/cli.ts');
    const notCopied = sources.filter((path) => !copied.has(path.split('/')[0] ?? ''));
    expect(notCopied).toEqual([]);
  });

  it('builds, from only what the image copies, the very bundle the tests run, and without a warning', async () => {
    const context = await cleanups.tempDir('parley-docker-context-');
    const copied = dockerCopies(await readFile(join(REPO_ROOT, 'relay/Dockerfile'), 'utf8'));
    for (const source of copied) await cp(join(REPO_ROOT, source), join(context, source), { recursive: true });
    // npm ci's work, as the image has it: the build tools' packages.
    await symlink(join(REPO_ROOT, 'node_modules'), join(context, 'node_modules'));
    const bundle = (cwd: string, outdir: string) => spawnSync(process.execPath, ['build/bundle-relay.mjs', '--outdir', outdir], { cwd, encoding: 'utf8' });

    const fromImage = bundle(context, join(context, 'dist/relay'));
    // A tsconfig the image lacks is a warning here, and a bundle compiled with other settings than the one tested.
    expect(fromImage.stderr).toBe('');
    expect(fromImage.status).toBe(0);
    const fromRepository = bundle(REPO_ROOT, join(context, 'dist/tested'));
    expect(fromRepository.status).toBe(0);
    for (const program of ['cli.mjs', 'admin.mjs', 'healthcheck.mjs']) {
      const [built, tested] = await Promise.all([readFile(join(context, 'dist/relay', program)), readFile(join(context, 'dist/tested', program))]);
      expect(built.equals(tested), program).toBe(true);
    }
  });

  it('names what the check above must refuse: a package outside dependencies, by its import, scoped or not', () => {
    const dependencies = { ws: '8.0.0', 'prom-client': '15.0.0' };
    expect(notShipped(['ws', 'node:worker_threads', 'fs', 'prom-client/lib/metrics/version.js', 'vitest/config', '@playwright/test/reporter'], dependencies)).toEqual(['@playwright/test', 'vitest']);
    expect(dockerCopies('FROM node:20 AS build\nCOPY package.json package-lock.json ./\nCOPY relay ./relay\nCOPY --from=build /app /app\n')).toEqual(new Set(['package.json', 'package-lock.json', 'relay']));
  });
});
