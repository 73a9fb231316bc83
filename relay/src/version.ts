import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let version: string | undefined;

function parleyVersionIn(dir: string): string | undefined {
  let manifest: unknown;
  try {
    manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  } catch {
    return undefined;
  }
  if (typeof manifest !== 'object' || manifest === null || !('name' in manifest) || manifest.name !== 'parley') return undefined;
  return 'version' in manifest && typeof manifest.version === 'string' ? manifest.version : undefined;
}

/**
 * The Parley release the relay runs: the version in Parley's package.json, found above this file, which is the source
 * (relay/src) or the bundle (dist/relay); the bundle keeps npm packages in node_modules, so the manifest ships with it.
 */
export function relayVersion(): string {
  if (version !== undefined) return version;
  for (let dir = dirname(fileURLToPath(import.meta.url)); version === undefined; dir = dirname(dir)) {
    version = parleyVersionIn(dir) ?? (dirname(dir) === dir ? 'unknown' : undefined);
  }
  return version;
}
