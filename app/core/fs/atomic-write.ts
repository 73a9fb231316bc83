import { open, rename, rm } from 'node:fs/promises';
import path from 'node:path';

/** Write a private file (0600) atomically: a crash leaves either the old file or the new one, never half of one. */
export async function writeFileAtomic(file: string, bytes: Uint8Array | string): Promise<void> {
  const temporary = `${file}.tmp`;
  const handle = await open(temporary, 'w', 0o600);
  try {
    await handle.writeFile(bytes);
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
