import { z } from 'zod';

/**
 * What the UI sees of whole-profile backups. The renderer never names a path: it gets back a bare
 * file name the host chose, or picks one from the host's own list of backups.
 */

/** A file name inside the host's backups folder: no folders, no way out of it. */
export const BackupFileName = z
  .string()
  .min(1)
  .max(255)
  .refine((name) => !/[/\\\0]/.test(name) && name !== '.' && name !== '..', 'A backup is chosen by its file name only');

export const BackupWritten = z.object({ fileName: z.string() }).strict();
export type BackupWritten = z.infer<typeof BackupWritten>;

export const BackupListing = z.object({ fileName: BackupFileName, bytes: z.number().int().nonnegative(), modifiedAt: z.number() }).strict();
export type BackupListing = z.infer<typeof BackupListing>;

/** How this host lets the user pick a backup to restore: its own open dialog, or a list of the backups it found. */
export const BackupSources = z.discriminatedUnion('picker', [
  z.object({ picker: z.literal('dialog') }).strict(),
  z.object({ picker: z.literal('list'), files: z.array(BackupListing) }).strict(),
]);
export type BackupSources = z.infer<typeof BackupSources>;
