/** Backup file naming, kept free of crypto imports so the Electron main bundle can use it. */
export const BACKUP_EXTENSION = '.parley-backup';

/** A dated, sortable file name that says nothing about whose profile it is; `attempt` tells apart two in one second. */
export function datedBackupName(now: Date, attempt = 0): string {
  const stamp = now.toISOString().replace(/\.\d{3}Z$/, 'Z').replace(/:/g, '-');
  return `parley-${stamp}${attempt === 0 ? '' : `-${attempt + 1}`}${BACKUP_EXTENSION}`;
}
