// Bundles the command-line client into dist/cli/parley.mjs (npm run build:cli): it starts without a TypeScript loader,
// in about half the time, which scripts and bots that run it once per message feel.
import { parseArgs } from 'node:util';
import { bundleForNode } from './node-bundle.mjs';

const { values } = parseArgs({ options: { outdir: { type: 'string', default: 'dist/cli' } } });

await bundleForNode({ parley: 'app/cli/main.ts' }, values.outdir);
