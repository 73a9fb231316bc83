// esbuild settings shared by the programs that run on plain Node as ES modules: the relay, its admin tool and the CLI.
// npm packages stay in node_modules (the native SQLite module must), so a bundle runs from inside the repository or an
// install of it.
import { build } from 'esbuild';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * Bundles each entry point (name -> source, or a list of sources) into OUTDIR/NAME.mjs; exits 1 if esbuild fails.
 * Each file is written beside its place and renamed into it, so a program started from it meanwhile (`npm run cli` in
 * two terminals) reads the old file or the new one, never half of one. With `metafile`, esbuild's account of the
 * build (every source read, every import left to node_modules) is written there as JSON.
 */
export async function bundleForNode(entryPoints, outdir, metafile) {
  let result;
  try {
    result = await build({
      entryPoints,
      outdir,
      outExtension: { '.js': '.mjs' },
      absWorkingDir: root,
      bundle: true,
      platform: 'node',
      format: 'esm',
      // The oldest Node Parley supports (package.json engines).
      target: 'node20',
      packages: 'external',
      // Stack traces name the TypeScript source (node --enable-source-maps).
      sourcemap: 'linked',
      legalComments: 'none',
      logLevel: 'warning',
      write: false,
      metafile: metafile !== undefined,
    });
  } catch {
    // esbuild has already printed what went wrong.
    process.exit(1);
  }
  await Promise.all(
    result.outputFiles.map(async ({ path, contents }) => {
      await mkdir(dirname(path), { recursive: true });
      const partial = `${path}.${process.pid}.partial`;
      await writeFile(partial, contents);
      await rename(partial, path);
    }),
  );
  if (metafile !== undefined) await writeFile(metafile, JSON.stringify(result.metafile));
}
