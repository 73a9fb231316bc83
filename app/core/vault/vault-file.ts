import { access, readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../fs/atomic-write.js';
import { parseVault, serializeVault, type AnyVaultFile } from './format.js';

/** Read and parse the vault file; undefined when there is none. */
export async function readVaultFile(file: string): Promise<AnyVaultFile | undefined> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(file);
  } catch (error) {
    if (isMissing(error)) return undefined;
    throw error;
  }
  return parseVault(bytes);
}

export async function vaultFileExists(file: string): Promise<boolean> {
  try {
    await access(file);
    return true;
  } catch (error) {
    if (isMissing(error)) return false;
    throw error;
  }
}

/** Write atomically: a crash leaves either the old file or the new one, never half of one. */
export async function writeVaultFile(file: string, vault: AnyVaultFile): Promise<void> {
  await writeFileAtomic(file, serializeVault(vault));
}

function isMissing(error: unknown): boolean {
  return typeof error === 'object' && error !== null && 'code' in error && error.code === 'ENOENT';
}
