// Bundles the Electron main process and the preload into dist/ (npm run build:electron).
import { build } from 'esbuild';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

const shared = {
  bundle: true,
  format: 'cjs',
  sourcemap: 'linked',
  logLevel: 'warning',
  legalComments: 'none',
  absWorkingDir: root,
};

/** Settings shared by the main process and the core's worker thread, both Node in Electron. */
const node = {
  ...shared,
  platform: 'node',
  // Electron 45 runs Node 22.
  target: 'node22',
  // Native modules are loaded from node_modules (unpacked from the asar in packages): SQLite, and ws's frame masking.
  external: ['electron', 'better-sqlite3-multiple-ciphers', 'bufferutil'],
  // Code written as ESM may read import.meta.url; give the CommonJS bundle a real one.
  define: { 'import.meta.url': '__parleyImportMetaUrl' },
  banner: { js: "const __parleyImportMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
};

const bundles = Promise.all([
  build({ ...node, entryPoints: ['app/main/main.ts'], outfile: 'dist/main/main.cjs' }),
  // The core runs in a worker thread the main process starts from this file (beside main.cjs).
  build({ ...node, entryPoints: ['app/core/worker/core-worker.ts'], outfile: 'dist/main/core-worker.cjs' }),
  build({
    ...shared,
    entryPoints: ['app/preload/preload.ts'],
    outfile: 'dist/preload/preload.cjs',
    // A sandboxed preload has no Node: it can require 'electron' and nothing else.
    platform: 'browser',
    target: 'chrome140',
    external: ['electron'],
    // The contract's validators pull in zod; minifying keeps the per-page preload small.
    minify: true,
  }),
]);

// esbuild has already printed what went wrong.
await bundles.catch(() => process.exit(1));
