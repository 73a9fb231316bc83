import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import type { ProfileInfo, ProfileStatus } from '../../shared/domain.js';
import { ParleyError } from '../../shared/errors.js';
import { IdentityKeyPair } from '../crypto/identity.js';
import { deriveSubkey } from '../crypto/kdf.js';
import type { Sodium } from '../crypto/sodium.js';
import type { CoreEvents } from '../events.js';
import { openDatabase, type Db } from '../store/db.js';
import { migrate } from '../store/migrations.js';
import { ProfileRepository } from '../store/profile-repo.js';
import { createVault, unlockVault } from '../vault/vault.js';
import { readVaultFile, vaultFileExists, writeVaultFile } from '../vault/vault-file.js';
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
}

/** Creating, unlocking and closing the profile. Operations run one at a time. */
export class AccountService {
  readonly #options: AccountOptions;
  readonly #queue = new SerialQueue();
  #session: ProfileSession | undefined;
  #info: ProfileInfo | undefined;

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
    if (this.#info !== undefined) return { state: 'unlocked', ...this.#info };
    if (await vaultFileExists(this.#vaultPath)) return { state: 'locked' };
    return this.#options.defaultRelayUrl === undefined ? { state: 'none' } : { state: 'none', relayUrl: this.#options.defaultRelayUrl };
  }

  create(input: { username: string; passphrase: string; relayUrl: string }): Promise<ProfileInfo> {
    return this.#serial(() => this.#create(input));
  }

  unlock(passphrase: string): Promise<ProfileInfo> {
    return this.#serial(() => this.#unlock(passphrase));
  }

  close(): Promise<void> {
    return this.#serial(async () => {
      const session = this.#session;
      this.#session = undefined;
      this.#info = undefined;
      await session?.close();
    });
  }

  async #create({ username, passphrase, relayUrl }: { username: string; passphrase: string; relayUrl: string }): Promise<ProfileInfo> {
    const { sodium, events } = this.#options;
    if (this.#session !== undefined || (await vaultFileExists(this.#vaultPath))) {
      throw new ParleyError('VAULT_PROFILE_EXISTS', 'A profile already exists here');
    }
    await mkdir(this.#options.profileDir, { recursive: true, mode: 0o700 });
    // Leftovers of an interrupted creation belong to no vault and can never be opened: start clean.
    await this.#removeProfileFiles();
    const { vault, masterKey } = createVault(sodium, passphrase);
    const identity = IdentityKeyPair.generate(sodium);
    let db: Db | undefined;
    let session: ProfileSession | undefined;
    try {
      db = this.#openDatabase(masterKey);
      new ProfileRepository(db).save({ username, relayUrl, identity: identity.toStored(), createdAt: Date.now() });
      await writeVaultFile(this.#vaultPath, vault);
      session = new ProfileSession({ sodium, db, identity, username, relayUrl, events });
      await session.register();
    } catch (error) {
      if (session !== undefined) await session.close();
      else db?.close();
      await this.#removeProfileFiles();
      throw error;
    } finally {
      sodium.memzero(masterKey);
    }
    return this.#activate(session, { username, relayUrl });
  }

  async #unlock(passphrase: string): Promise<ProfileInfo> {
    const { sodium, events } = this.#options;
    const vault = await readVaultFile(this.#vaultPath);
    if (vault === undefined) throw new ParleyError('VAULT_NO_PROFILE', 'There is no profile to unlock');
    const masterKey = unlockVault(sodium, vault, passphrase);
    try {
      if (this.#info !== undefined) return this.#info;
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
    } finally {
      sodium.memzero(masterKey);
    }
  }

  #activate(session: ProfileSession, info: ProfileInfo): ProfileInfo {
    this.#session = session;
    this.#info = info;
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
