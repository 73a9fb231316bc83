// Bundles the relay into dist/relay/cli.mjs and its admin tool into dist/relay/admin.mjs (npm run build:relay). The
// relay ships compiled: it starts without a TypeScript loader and runs plain JavaScript. npm packages stay in node_modules (the native SQLite module must), so
// the bundle runs from inside the repository or an install of it.
// Also used by the relay benchmark for its server children: node build/bundle-relay.mjs --outdir DIR ENTRY.ts ...
import { build } from 'esbuild';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { values, positionals } = parseArgs({ options: { outdir: { type: 'string', default: 'dist/relay' } }, allowPositionals: true });

try {
  await build({
    entryPoints: positionals.length > 0 ? positionals : { cli: 'relay/src/cli.ts', admin: 'relay/src/admin/main.ts' },
    outdir: values.outdir,
    outExtension: { '.js': '.mjs' },
    absWorkingDir: root,
    bundle: true,
    platform: 'node',
    format: 'esm',
    // The oldest Node the relay supports (package.json engines).
    target: 'node20',
    packages: 'external',
    // Stack traces in the relay's logs name the TypeScript source (node --enable-source-maps).
    sourcemap: 'linked',
    legalComments: 'none',
    logLevel: 'warning',
  });
} catch {
  // esbuild has already printed what went wrong.
  process.exit(1);
}
