import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import Ajv from 'ajv';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');
const require = createRequire(import.meta.url);
// js-yaml ships without type declarations; electron-builder itself loads its config with it.
const yaml = require('js-yaml') as { load: (text: string) => unknown };

interface BuilderConfig {
  appId?: string;
  productName?: string;
  npmRebuild?: boolean;
  asar?: boolean;
  asarUnpack?: string[];
  files?: string[];
  directories?: { output?: string };
  linux?: { target?: string[]; category?: string };
  mac?: { target?: string[]; hardenedRuntime?: boolean };
  win?: { target?: string[] };
}

async function loadConfig(): Promise<unknown> {
  return yaml.load(await readFile(join(root, 'electron-builder.yml'), 'utf8'));
}

describe('electron-builder.yml', () => {
  it("validates against app-builder-lib's scheme.json", async () => {
    const schema: unknown = JSON.parse(await readFile(join(root, 'node_modules', 'app-builder-lib', 'scheme.json'), 'utf8'));
    // Same Ajv settings electron-builder uses, minus type coercion so a wrong type fails here.
    const ajv = new Ajv({ allErrors: true, strict: false });
    const validate = ajv.compile(schema as object);
    const valid = validate(await loadConfig());
    expect(validate.errors ?? [], ajv.errorsText(validate.errors)).toEqual([]);
    expect(valid).toBe(true);
  });

  it('packages what Parley needs and nothing rebuilt on this machine', async () => {
    const config = (await loadConfig()) as BuilderConfig;
    expect(config.appId).toBe('org.parley.desktop');
    expect(config.productName).toBe('Parley');
    expect(config.directories?.output).toBe('release');
    expect(config.files).toEqual(['dist/**', 'package.json']);
    expect(config.npmRebuild).toBe(false);
    expect(config.asar).toBe(true);
    // Every native module the main process loads must sit outside the archive: SQLite, and ws's frame masking.
    for (const native of ['better-sqlite3-multiple-ciphers', 'bufferutil']) {
      expect(config.asarUnpack?.some((pattern) => pattern.includes(`node_modules/${native}/`)), native).toBe(true);
    }
    expect(config.linux?.target).toEqual(['AppImage', 'deb']);
    expect(config.linux?.category).toBe('Network');
    expect(config.mac?.target).toEqual(['dmg']);
    expect(config.mac?.hardenedRuntime).toBe(true);
    expect(config.win?.target).toEqual(['nsis']);
  });

  it('points package.json main at the bundled main process', async () => {
    const pkg = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as { main?: string };
    expect(pkg.main).toBe('dist/main/main.cjs');
  });
});
