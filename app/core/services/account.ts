import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import type { CreatedProfile, ProfileInfo, ProfileStatus, VaultSettings } from '../../shared/domain.js';
import { ratePassphrase } from '../../shared/strength.js';
import { ParleyError } from '../../shared/errors.js';
import { IdentityKeyPair } from '../crypto/identity.js';
import { deriveSubkey } from '../crypto/kdf.js';
import type { Sodium } from '../crypto/sodium.js';
import type { CoreEvents } from '../events.js';
import { openDatabase, type Db } from '../store/db.js';
import { migrate } from '../store/migrations.js';
import { ProfileRepository } from '../store/profile-repo.js';
import type { AnyVaultFile, VaultFileV2 } from '../vault/format.js';
import type { KeychainPort } from '../vault/keychain.js';
import {
  createKeyring,
  keychainWrap,
  openWithKeychain,
  openWithPassphrase,
  openWithRecoveryKey,
  passphraseWrap,
  recoveryWrap,
  upgradeVault,
} from '../vault/keyring.js';
import { formatRecoveryKey, generateRecoveryKey, parseRecoveryKey } from '../vault/recovery-key.js';
import { readVaultFile, vaultFileExists, writeVaultFile } from '../vault/vault-file.js';
import { SettingsRepository } from '../store/settings-repo.js';
import { IdleTimer } from './idle-timer.js';
import type { BackupSecret } from '../backup/format.js';
import { exportBackup, importBackup } from './backup.js';
import { SerialQueue } from './serial-queue.js';
import { ProfileSession } from './session.js';

/** File names inside the profile folder; none of them says anything about who the profile belongs to. */
export const PROFILE_FILES = { vault: 'vault.json', database: 'parley.db' } as const;
const DATABASE_SIDE_FILES = ['', '-wal', '-shm', '-journal'];

export interface AccountOptions {
  sodium: Sodium;
  profileDir: string;
  defaultRelayUrl: string | undefined;
  events: CoreEvents;
  /** the OS secret store, where the host has one (Electron); never a plaintext fallback */
  keychain?: KeychainPort;
  /** false for hosts without a user at a screen (CLI): the idle auto-lock never runs there */
  idleLock?: boolean;
}

const AUTO_LOCK_SETTING = 'autoLockMinutes';
/** New profiles lock after 15 idle minutes until the user chooses otherwise. */
export const DEFAULT_AUTO_LOCK_MINUTES = 15;

/** Refuse a new passphrase under the strength floor, saying why (the UI runs the same check first). */
export function requireStrongPassphrase(passphrase: string, userInputs: string[]): void {
  const strength = ratePassphrase(passphrase, userInputs);
  if (!strength.acceptable) {
    const advice = [strength.warning, ...strength.suggestions].filter((line) => line !== '').join(' ');
    throw new ParleyError('VAULT_WEAK_PASSPHRASE', `This passphrase is too easy to guess. ${advice}`.trim());
  }
}

/** Creating, unlocking and closing the profile. Operations run one at a time. */
export class AccountService {
  readonly #options: AccountOptions;
  readonly #queue = new SerialQueue();
  #session: ProfileSession | undefined;
  #info: ProfileInfo | undefined;
  /** the recovery key of a profile created in this run, until the user retypes it */
  #pendingRecoveryKey: Uint8Array | undefined;
  readonly #idle = new IdleTimer(() => void this.lock('idle').catch(() => undefined));

  constructor(options: AccountOptions) {
    this.#options = options;
  }

  get session(): ProfileSession | undefined {
    return this.#session;
  }

  /** The unlocked session, or VAULT_LOCKED. */
  requireSession(): ProfileSession {
    if (this.#session === undefined) throw new ParleyError('VAULT_LOCKED', 'Unlock the profile first');
    return this.#session;
  }

  async status(): Promise<ProfileStatus> {
    if (this.#info !== undefined) return { state: 'unlocked', ...this.#info, recoveryKeyPending: this.#pendingRecoveryKey !== undefined };
    if (await vaultFileExists(this.#vaultPath)) return { state: 'locked', ...(this.#keychainAvailable() && (await this.#hasKeychainWrap()) ? { autoUnlock: true } : {}) };
    return this.#options.defaultRelayUrl === undefined ? { state: 'none' } : { state: 'none', relayUrl: this.#options.defaultRelayUrl };
  }

  /** With `registrationLockCode`, take over a username whose registration lock this code opens (a reinstall). */
  create(input: { username: string; passphrase: string; relayUrl: string; registrationLockCode?: string | undefined }): Promise<CreatedProfile> {
    return this.#serial(() => this.#create(input));
  }

  unlock(passphrase: string): Promise<ProfileInfo> {
    return this.#serial(() => this.#unlock(passphrase));
  }

  close(): Promise<void> {
    return this.#serial(() => this.#lock());
  }

  /** Close the session: keys leave memory, the UI goes back to the unlock screen. */
  lock(reason: 'user' | 'idle' | 'system' = 'user'): Promise<void> {
    return this.#serial(async () => {
      if (this.#session === undefined) return;
      await this.#lock();
      this.#options.events.emit('profile.locked', { reason });
    });
  }

  /** Any call from the user counts as activity for the auto-lock timer. */
  touch(): void {
    if (this.#session !== undefined) this.#idle.touch();
  }

  confirmRecoveryKey(typed: string): Record<string, never> {
    const pending = this.#pendingRecoveryKey;
    this.requireSession();
    if (pending === undefined) return {};
    const typedKey = parseRecoveryKey(typed);
    if (typedKey.length !== pending.length || !this.#options.sodium.memcmp(typedKey, pending)) {
      throw new ParleyError('VAULT_WRONG_RECOVERY_KEY', 'That is not the recovery key shown above; check each group');
    }
    this.#options.sodium.memzero(pending);
    this.#pendingRecoveryKey = undefined;
    return {};
  }

  /** Forgot the passphrase: the recovery key opens the vault, a new passphrase replaces the old one, and the profile unlocks. */
  recover(recoveryKey: string, newPassphrase: string): Promise<ProfileInfo> {
    return this.#serial(async () => {
      const vault = await this.#readVault();
      const masterKey = openWithRecoveryKey(this.#options.sodium, vault, recoveryKey);
      try {
        requireStrongPassphrase(newPassphrase, []);
        const current = upgradeVault(this.#options.sodium, vault, masterKey, newPassphrase);
        const next: VaultFileV2 = { ...current, passphrase: passphraseWrap(this.#options.sodium, masterKey, newPassphrase) };
        await writeVaultFile(this.#vaultPath, next);
        return this.#info ?? this.#openSession(masterKey);
      } finally {
        this.#options.sodium.memzero(masterKey);
      }
    });
  }

  /** Replace the passphrase wrap; the old passphrase stops working, the recovery key and keychain wraps stay. */
  changePassphrase(passphrase: string, newPassphrase: string): Promise<Record<string, never>> {
    return this.#serial(async () => {
      const info = this.#info;
      const vault = await this.#readVault();
      const masterKey = openWithPassphrase(this.#options.sodium, vault, passphrase);
      try {
        if (newPassphrase === passphrase) throw new ParleyError('VAULT_WEAK_PASSPHRASE', 'The new passphrase is the same as the current one');
        requireStrongPassphrase(newPassphrase, info === undefined ? [] : [info.username]);
        const upgraded = upgradeVault(this.#options.sodium, vault, masterKey, passphrase);
        await writeVaultFile(this.#vaultPath, { ...upgraded, passphrase: passphraseWrap(this.#options.sodium, masterKey, newPassphrase) });
        return {};
      } finally {
        this.#options.sodium.memzero(masterKey);
      }
    });
  }

  unlockAuto(): Promise<ProfileInfo> {
    return this.#serial(async () => {
      const keychain = this.#requireKeychain();
      const masterKey = openWithKeychain(this.#options.sodium, await this.#readVault(), keychain);
      try {
        return this.#info ?? this.#openSession(masterKey);
      } finally {
        this.#options.sodium.memzero(masterKey);
      }
    });
  }

  settings(): Promise<VaultSettings> {
    return this.#serial(() => this.#settings());
  }

  setAutoLock(minutes: number): Promise<VaultSettings> {
    return this.#serial(async () => {
      new SettingsRepository(this.requireSession().context.db).setNumber(AUTO_LOCK_SETTING, minutes);
      if (this.#options.idleLock !== false) this.#idle.set(minutes);
      return this.#settings();
    });
  }

  /** Add a keychain wrap (re-entering the passphrase proves it is the owner at the keyboard). */
  enableKeychain(passphrase: string): Promise<VaultSettings> {
    return this.#serial(async () => {
      this.requireSession();
      const keychain = this.#requireKeychain();
      const vault = await this.#readVault();
      const masterKey = openWithPassphrase(this.#options.sodium, vault, passphrase);
      try {
        const upgraded = upgradeVault(this.#options.sodium, vault, masterKey, passphrase);
        await writeVaultFile(this.#vaultPath, { ...upgraded, keychain: keychainWrap(this.#options.sodium, masterKey, keychain) });
      } finally {
        this.#options.sodium.memzero(masterKey);
      }
      return this.#settings();
    });
  }

  disableKeychain(): Promise<VaultSettings> {
    return this.#serial(async () => {
      this.requireSession();
      const vault = await this.#readVault();
      if (vault.version === 2 && vault.keychain !== undefined) {
        await writeVaultFile(this.#vaultPath, { ...vault, keychain: undefined });
      }
      return this.#settings();
    });
  }

  /**
   * A new recovery key replaces the old one (which stops working); for profiles created before recovery keys,
   * the first. Like the one shown at setup, it waits to be retyped.
   */
  newRecoveryKey(passphrase: string): Promise<{ recoveryKey: string }> {
    return this.#serial(async () => {
      this.requireSession();
      const { sodium } = this.#options;
      const vault = await this.#readVault();
      const masterKey = openWithPassphrase(sodium, vault, passphrase);
      const recoveryKey = generateRecoveryKey();
      try {
        const upgraded = upgradeVault(sodium, vault, masterKey, passphrase);
        await writeVaultFile(this.#vaultPath, { ...upgraded, recovery: recoveryWrap(sodium, masterKey, recoveryKey) });
      } catch (error) {
        sodium.memzero(recoveryKey);
        throw error;
      } finally {
        sodium.memzero(masterKey);
      }
      if (this.#pendingRecoveryKey !== undefined) sodium.memzero(this.#pendingRecoveryKey);
      this.#pendingRecoveryKey = recoveryKey;
      return { recoveryKey: formatRecoveryKey(recoveryKey) };
    });
  }

  /** Export the whole profile to one encrypted file (CLI `backup export`). */
  exportBackup(file: string, secret: BackupSecret): Promise<void> {
    return this.#serial(() => exportBackup(this.#options.sodium, this.#options.profileDir, this.requireSession().context.db, file, secret));
  }

  /**
   * Restore a backup into this profile folder while it holds no profile (onboarding); the core's own
   * status then reports the restored profile, locked. `ignore`: see importBackup.
   */
  restoreBackup(file: string, secret: BackupSecret, ignore: readonly string[]): Promise<void> {
    return this.#serial(async () => {
      if (this.#session !== undefined || (await vaultFileExists(this.#vaultPath))) {
        throw new ParleyError('BACKUP_TARGET_NOT_EMPTY', 'This computer already has a profile; restore a backup only into a new one');
      }
      await importBackup(this.#options.sodium, this.#options.profileDir, file, secret, ignore);
    });
  }

  /** Check the passphrase without changing anything (re-entry before a sensitive export). */
  async verifyPassphrase(passphrase: string): Promise<void> {
    const masterKey = openWithPassphrase(this.#options.sodium, await this.#readVault(), passphrase);
    this.#options.sodium.memzero(masterKey);
  }

  async #settings(): Promise<VaultSettings> {
    const session = this.requireSession();
    const vault = await this.#readVault();
    const availability = this.#options.keychain?.availability() ?? { available: false as const, reason: 'This host has no system keychain' };
    return {
      autoLockMinutes: new SettingsRepository(session.context.db).getNumber(AUTO_LOCK_SETTING, DEFAULT_AUTO_LOCK_MINUTES),
      keychain: {
        available: availability.available,
        ...(availability.available ? {} : { reason: availability.reason }),
        enabled: vault.version === 2 && vault.keychain !== undefined,
      },
      hasRecoveryKey: vault.version === 2 && vault.recovery !== undefined,
    };
  }

  async #hasKeychainWrap(): Promise<boolean> {
    try {
      const vault = await readVaultFile(this.#vaultPath);
      return vault?.version === 2 && vault.keychain !== undefined;
    } catch {
      return false;
    }
  }

  #keychainAvailable(): boolean {
    return this.#options.keychain?.availability().available === true;
  }

  #requireKeychain(): KeychainPort {
    const keychain = this.#options.keychain;
    if (keychain === undefined) throw new ParleyError('KEYCHAIN_UNAVAILABLE', 'This host has no system keychain');
    const availability = keychain.availability();
    if (!availability.available) throw new ParleyError('KEYCHAIN_UNAVAILABLE', availability.reason);
    return keychain;
  }

  async #readVault(): Promise<AnyVaultFile> {
    const vault = await readVaultFile(this.#vaultPath);
    if (vault === undefined) throw new ParleyError('VAULT_NO_PROFILE', 'There is no profile here');
    return vault;
  }

  async #lock(): Promise<void> {
    const session = this.#session;
    this.#session = undefined;
    this.#info = undefined;
    this.#idle.stop();
    if (this.#pendingRecoveryKey !== undefined) this.#options.sodium.memzero(this.#pendingRecoveryKey);
    this.#pendingRecoveryKey = undefined;
    await session?.close();
  }

  async #create({
    username,
    passphrase,
    relayUrl,
    registrationLockCode,
  }: {
    username: string;
    passphrase: string;
    relayUrl: string;
    registrationLockCode?: string | undefined;
  }): Promise<CreatedProfile> {
    const { sodium, events } = this.#options;
    if (this.#session !== undefined || (await vaultFileExists(this.#vaultPath))) {
      throw new ParleyError('VAULT_PROFILE_EXISTS', 'A profile already exists here');
    }
    requireStrongPassphrase(passphrase, [username]);
    await mkdir(this.#options.profileDir, { recursive: true, mode: 0o700 });
    // Leftovers of an interrupted creation belong to no vault and can never be opened: start clean.
    await this.#removeProfileFiles();
    const { vault, masterKey, recoveryKey } = createKeyring(sodium, passphrase);
    const identity = IdentityKeyPair.generate(sodium);
    let db: Db | undefined;
    let session: ProfileSession | undefined;
    try {
      db = this.#openDatabase(masterKey);
      new ProfileRepository(db).save({ username, relayUrl, identity: identity.toStored(), createdAt: Date.now() });
      await writeVaultFile(this.#vaultPath, vault);
      session = new ProfileSession({ sodium, db, identity, username, relayUrl, events });
      await session.register(registrationLockCode);
    } catch (error) {
      if (session !== undefined) await session.close();
      else db?.close();
      await this.#removeProfileFiles();
      sodium.memzero(recoveryKey);
      throw error;
    } finally {
      sodium.memzero(masterKey);
    }
    this.#pendingRecoveryKey = recoveryKey;
    const info = this.#activate(session, { username, relayUrl });
    return { ...info, recoveryKey: formatRecoveryKey(recoveryKey) };
  }

  async #unlock(passphrase: string): Promise<ProfileInfo> {
    const { sodium } = this.#options;
    const vault = await readVaultFile(this.#vaultPath);
    if (vault === undefined) throw new ParleyError('VAULT_NO_PROFILE', 'There is no profile to unlock');
    const masterKey = openWithPassphrase(sodium, vault, passphrase);
    try {
      if (this.#info !== undefined) return this.#info;
      const info = this.#openSession(masterKey);
      // A version 1 vault is rewritten in the current format once the passphrase is known to be right.
      if (vault.version === 1) await writeVaultFile(this.#vaultPath, upgradeVault(sodium, vault, masterKey, passphrase));
      return info;
    } finally {
      sodium.memzero(masterKey);
    }
  }

  /** Open the database with the master key and start the session (caller wipes the key). */
  #openSession(masterKey: Uint8Array): ProfileInfo {
    const { sodium, events } = this.#options;
    const db = this.#openDatabase(masterKey);
    const profile = new ProfileRepository(db).get();
    if (profile === undefined) {
      db.close();
      throw new ParleyError('VAULT_CORRUPT', 'The profile database is incomplete');
    }
    const identity = IdentityKeyPair.fromStored(profile.identity);
    const session = new ProfileSession({ sodium, db, identity, username: profile.username, relayUrl: profile.relayUrl, events });
    const info = this.#activate(session, { username: profile.username, relayUrl: profile.relayUrl });
    session.connect();
    return info;
  }

  #activate(session: ProfileSession, info: ProfileInfo): ProfileInfo {
    this.#session = session;
    this.#info = info;
    if (this.#options.idleLock !== false) this.#idle.set(new SettingsRepository(session.context.db).getNumber(AUTO_LOCK_SETTING, DEFAULT_AUTO_LOCK_MINUTES));
    return info;
  }

  #openDatabase(masterKey: Uint8Array): Db {
    const key = deriveSubkey(this.#options.sodium, masterKey, 'database');
    try {
      const db = openDatabase(this.#databasePath, key);
      try {
        migrate(db);
      } catch (error) {
        db.close();
        throw error;
      }
      return db;
    } finally {
      this.#options.sodium.memzero(key);
    }
  }

  async #removeProfileFiles(): Promise<void> {
    const files = [this.#vaultPath, `${this.#vaultPath}.tmp`, ...DATABASE_SIDE_FILES.map((suffix) => `${this.#databasePath}${suffix}`)];
    await Promise.all(files.map((file) => rm(file, { force: true })));
  }

  #serial<T>(operation: () => Promise<T>): Promise<T> {
    return this.#queue.push(operation);
  }

  get #vaultPath(): string {
    return path.join(this.#options.profileDir, PROFILE_FILES.vault);
  }

  get #databasePath(): string {
    return path.join(this.#options.profileDir, PROFILE_FILES.database);
  }
}
