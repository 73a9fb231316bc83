import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { ParleyApi } from '../shared/api.js';
import { ParleyError } from '../shared/errors.js';
import { createApi } from './api.js';
import { loadSodium } from './crypto/sodium.js';
import { CoreEvents } from './events.js';
import { AccountService } from './services/account.js';
import type { KeychainPort } from './vault/keychain.js';
import type { BackupSecret } from './backup/format.js';
import { importBackup } from './services/backup.js';
import { BackupActions, type BackupExportRequest } from './services/backup-actions.js';
import { BACKUPS_FOLDER, BackupShelf } from './services/backup-shelf.js';

export interface CoreOptions {
  profileDir: string;
  /** offered by profile.status while no profile exists */
  defaultRelayUrl?: string;
  /** the OS keychain, where the host has one (Electron safeStorage) */
  keychain?: KeychainPort;
  /** false where no user sits at a screen (CLI): no idle auto-lock */
  idleLock?: boolean;
  /** where backup.export writes and backup.restore looks, for hosts without a file dialog (default PROFILE/backups) */
  backupDir?: string;
}

export interface Core extends ParleyApi {
  /** Resolves once connected and authenticated; rejects ParleyError RELAY_UNREACHABLE after timeoutMs (default 10s). */
  whenOnline(timeoutMs?: number): Promise<void>;
  /** Resolves once the relay's DRAINED arrived for the current connection and every delivered envelope is stored and acknowledged. */
  whenSynced(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
  /** Lock now for a reason the host observed (system suspend, screen lock); no-op when locked. */
  lock(reason: 'user' | 'idle' | 'system'): Promise<void>;
  /** Write an encrypted backup of the whole (unlocked) profile to `file`. */
  exportBackup(file: string, secret: BackupSecret): Promise<void>;
  /** For a host with its own file dialog: refuse a backup.export request before the dialog opens. */
  checkBackupExport(request: BackupExportRequest): Promise<void>;
  /** backup.export into a file the host's save dialog chose. */
  exportBackupTo(file: string, request: BackupExportRequest): Promise<void>;
  /** backup.restore from a file the host's open dialog chose; the folder must hold no profile. */
  restoreBackupFrom(file: string, backupPassphrase: string): Promise<void>;
}

/** Restore a backup into an empty profile folder (before any core opens it). */
export async function restoreBackup(profileDir: string, file: string, secret: BackupSecret): Promise<void> {
  await importBackup(await loadSodium(), profileDir, file, secret);
}

const DEFAULT_WAIT_MS = 10_000;

/** Open the messenger engine over one profile folder (created if missing). The profile starts locked. */
export async function openCore(options: CoreOptions): Promise<Core> {
  const sodium = await loadSodium();
  await mkdir(options.profileDir, { recursive: true, mode: 0o700 });
  const events = new CoreEvents();
  const account = new AccountService({
    sodium,
    profileDir: options.profileDir,
    defaultRelayUrl: options.defaultRelayUrl,
    events,
    ...(options.keychain === undefined ? {} : { keychain: options.keychain }),
    ...(options.idleLock === undefined ? {} : { idleLock: options.idleLock }),
  });
  const backups = new BackupActions(account, new BackupShelf(options.backupDir ?? path.join(options.profileDir, BACKUPS_FOLDER), options.profileDir));
  const api = createApi(account, backups, events);

  const isOnline = (): boolean => account.session?.context.relay.online ?? false;

  const whenOnline = (timeoutMs = DEFAULT_WAIT_MS): Promise<void> =>
    new Promise((resolve, reject) => {
      if (isOnline()) {
        resolve();
        return;
      }
      const unsubscribe = events.on('connection.changed', (state) => {
        if (state.state !== 'online') return;
        finish();
        resolve();
      });
      const timer = setTimeout(() => {
        finish();
        reject(new ParleyError('RELAY_UNREACHABLE', 'The relay could not be reached in time'));
      }, timeoutMs);
      const finish = (): void => {
        clearTimeout(timer);
        unsubscribe();
      };
    });

  return {
    invoke: api.invoke,
    on: api.on,
    whenOnline,
    async whenSynced(timeoutMs = DEFAULT_WAIT_MS) {
      const started = Date.now();
      await whenOnline(timeoutMs);
      const session = account.session;
      if (session === undefined) throw new ParleyError('VAULT_LOCKED', 'Unlock the profile first');
      await session.whenSynced(Math.max(0, timeoutMs - (Date.now() - started)));
    },
    lock: (reason) => account.lock(reason),
    exportBackup: (file, secret) => account.exportBackup(file, secret),
    checkBackupExport: (request) => backups.check(request),
    exportBackupTo: (file, request) => backups.exportTo(file, request),
    restoreBackupFrom: async (file, backupPassphrase) => {
      await backups.restoreFrom(file, backupPassphrase);
    },
    async close() {
      await account.close();
      events.clear();
    },
  };
}
