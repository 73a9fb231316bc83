import { access, open, readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';
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
  const temporary = `${file}.tmp`;
  const handle = await open(temporary, 'w', 0o600);
  try {
    await handle.writeFile(serializeVault(vault));
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await rename(temporary, file);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
  await syncDirectory(path.dirname(file));
}

async function syncDirectory(dir: string): Promise<void> {
  // Directory fsync makes the rename durable; some platforms cannot open directories, which is fine.
  try {
    const handle = await open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    /* best effort */
  }
}

function isMissing(error: unknown): boolean {
  return typeof error === 'object' && error !== null && 'code' in error && error.code === 'ENOENT';
}
