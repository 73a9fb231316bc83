// Bundles the relay into dist/relay/cli.mjs, its admin tool into dist/relay/admin.mjs and its health probe into
// dist/relay/healthcheck.mjs (npm run build:relay). The relay ships compiled: it starts without a TypeScript loader
// and runs plain JavaScript.
// Also used by the relay benchmark for its server children: node build/bundle-relay.mjs --outdir DIR ENTRY.ts ...
// --metafile FILE writes esbuild's account of the build there (what the bundles read and import).
import { parseArgs } from 'node:util';
import { bundleForNode } from './node-bundle.mjs';

const { values, positionals } = parseArgs({ options: { outdir: { type: 'string', default: 'dist/relay' }, metafile: { type: 'string' } }, allowPositionals: true });

await bundleForNode(positionals.length > 0 ? positionals : { cli: 'relay/src/cli.ts', admin: 'relay/src/admin/main.ts', healthcheck: 'relay/src/healthcheck.ts' }, values.outdir, values.metafile);
