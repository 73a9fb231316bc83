import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import Database from 'better-sqlite3-multiple-ciphers';
import { RESERVED_DESCRIPTORS } from './descriptor-limit.js';
import { listenProblem } from './listen.js';
import { relayUrl, resolveOptions, type RelayOptions, type ResolvedRelayOptions } from './options.js';
import { dataFolderInUse } from './store/data-folder-lock.js';
import { SCHEMA_VERSION, schemaVersion } from './store/migrations.js';
import { DATABASE_FILE } from './store/sqlite.js';
import { loadTlsFiles } from './tls.js';

/** What `relay --check` found: facts an operator reads, and problems that would stop the relay or turn its clients away. */
export interface ConfigCheck {
  readonly facts: ReadonlyArray<readonly [label: string, value: string]>;
  readonly problems: readonly string[];
}

const DAY_MS = 24 * 60 * 60 * 1000;

function reason(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function writable(path: string): boolean {
  try {
    accessSync(path, constants.W_OK | constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The nearest folder at or above path that exists. */
function nearestExisting(path: string): string {
  let current = resolve(path);
  for (;;) {
    try {
      statSync(current);
      return current;
    } catch {
      const parent = dirname(current);
      if (parent === current) return current;
      current = parent;
    }
  }
}

function checkCertificate(resolved: ResolvedRelayOptions, now: number, facts: Array<[string, string]>, problems: string[]): void {
  if (resolved.tls === undefined) return;
  let certificate;
  try {
    ({ certificate } = loadTlsFiles(resolved.tls));
  } catch (error) {
    problems.push(reason(error));
    return;
  }
  const expires = new Date(certificate.expiresAt).toISOString();
  if (certificate.expiresAt <= now) problems.push(`the certificate in ${resolved.tls.certPath} expired on ${expires}: clients will refuse it`);
  const days = Math.floor((certificate.expiresAt - now) / DAY_MS);
  facts.push(['certificate', `expires ${expires} (in ${days} days), SHA-256 ${certificate.fingerprint256}`]);
}

/** The data folder as the relay would find it at start: nothing is created, migrated or locked. Says whether a relay runs on it. */
function checkDataFolder(dataDir: string, facts: Array<[string, string]>, problems: string[]): boolean {
  let isFolder: boolean;
  try {
    isFolder = statSync(dataDir).isDirectory();
  } catch {
    const existing = nearestExisting(dataDir);
    if (writable(existing)) facts.push(['data folder', `${dataDir} (does not exist yet: the relay creates it)`]);
    else problems.push(`the data folder ${dataDir} does not exist, and ${existing} is not writable by this user to create it`);
    return false;
  }
  if (!isFolder) {
    problems.push(`the data folder ${dataDir} is not a folder`);
    return false;
  }
  if (!writable(dataDir)) {
    problems.push(`the data folder ${dataDir} is not writable by this user`);
    return false;
  }
  const notes: string[] = [];
  const databasePath = join(dataDir, DATABASE_FILE);
  if (!existsSync(databasePath)) notes.push('no database yet: the relay creates it');
  else {
    try {
      const schema = describeSchema(databasePath, dataDir);
      if ('note' in schema) notes.push(schema.note);
      else problems.push(schema.problem);
    } catch (error) {
      problems.push(`the database in ${dataDir} cannot be read: ${reason(error)}`);
    }
  }
  let running = false;
  try {
    running = dataFolderInUse(dataDir);
    if (running) notes.push('a relay is running on it now: another cannot start on it until that one stops');
  } catch (error) {
    problems.push(`cannot tell whether a relay is running on ${dataDir}: ${reason(error)}`);
  }
  facts.push(['data folder', `${dataDir} (${notes.join('; ')})`]);
  return running;
}

/** What the relay's database says of its schema, read without migrating it. */
function describeSchema(databasePath: string, dataDir: string): { note: string } | { problem: string } {
  const db = new Database(databasePath, { readonly: true, fileMustExist: true });
  try {
    const version = schemaVersion(db);
    if (version > SCHEMA_VERSION) return { problem: `the database in ${dataDir} has schema version ${version}, from a newer relay; this relay knows up to ${SCHEMA_VERSION}` };
    return { note: version === SCHEMA_VERSION ? `database schema ${version}` : `database schema ${version}, migrated to ${SCHEMA_VERSION} at start` };
  } finally {
    db.close();
  }
}

/** maxConnections, and what it is bounded by. */
function describeConnectionCap({ maxConnections, descriptorLimit }: ResolvedRelayOptions): string {
  const bound =
    descriptorLimit === undefined
      ? 'the descriptor limit cannot be read here'
      : `this process may open ${descriptorLimit} files; ${RESERVED_DESCRIPTORS} are kept for the relay's own`;
  return `at most ${maxConnections} at once (${bound})`;
}

/**
 * Check a configuration the way a start would, writing nothing: the port is tried (listened on and closed at once)
 * only when no relay runs on the data folder, since one that does holds it.
 */
export async function checkConfig(options: RelayOptions, now = Date.now()): Promise<ConfigCheck> {
  let resolved: ResolvedRelayOptions;
  try {
    resolved = resolveOptions(options);
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
    return { facts: [], problems: [error.message] };
  }
  const listenAt: [string, string] = ['listen', relayUrl(resolved, resolved.port)];
  const facts: Array<[string, string]> = [listenAt];
  const problems: string[] = [];
  checkCertificate(resolved, now, facts, problems);
  if (checkDataFolder(resolved.dataDir, facts, problems)) listenAt[1] += ' (not tried: the running relay holds it)';
  else if (resolved.port === 0) listenAt[1] += ' (any free port)';
  else {
    const problem = await listenProblem(resolved.port, resolved.host);
    if (problem !== undefined) problems.push(problem);
  }
  facts.push(['connections', describeConnectionCap(resolved)]);
  facts.push(['registration', resolved.registration === 'open' ? 'open: anyone may register a username' : 'invite: new users need an invite code']);
  return { facts, problems };
}
