/**
 * Backup export benchmark: one profile whose attachments hold BENCH_BACKUP_MB MiB (default 256), exported by the
 * streaming writer and, as the baseline in the same run, by the earlier way (every file read into memory, packed,
 * sealed, written). Each export runs in a fresh child process so its peak memory (max RSS) is its own.
 * A raw backup key keeps Argon2id's 128 MiB out of both figures.
 *   npm run bench:backup            BENCH_BACKUP_MB=64 npm run bench:backup
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { packContainer } from '../../app/core/backup/container.js';
import { sealBackup } from '../../app/core/backup/format.js';
import { deriveSubkey } from '../../app/core/crypto/kdf.js';
import { randomBytes } from '../../app/core/crypto/random.js';
import { loadSodium } from '../../app/core/crypto/sodium.js';
import { exportBackup } from '../../app/core/services/backup.js';
import { openDatabase, type Db } from '../../app/core/store/db.js';
import { migrate } from '../../app/core/store/migrations.js';
import { parseVault } from '../../app/core/vault/format.js';
import { createKeyring, openWithPassphrase } from '../../app/core/vault/keyring.js';
import { writeVaultFile } from '../../app/core/vault/vault-file.js';

const MEGABYTES = Number(process.env.BENCH_BACKUP_MB ?? 256);
const FILE_MB = 4;
const PASSPHRASE = 'benchmark passphrase of reasonable strength';
const FAST = { opslimit: 1, memlimit: 8 * 1024 * 1024 };
const KEY = { key: new Uint8Array(32).fill(7) };
type Variant = 'stream' | 'in-memory';

async function openProfileDb(profileDir: string): Promise<Db> {
  const sodium = await loadSodium();
  const vault = parseVault(await readFile(path.join(profileDir, 'vault.json')));
  return openDatabase(path.join(profileDir, 'parley.db'), deriveSubkey(sodium, openWithPassphrase(sodium, vault, PASSPHRASE), 'database'));
}

/** The earlier writer, kept here as the baseline: the whole profile and the whole backup in memory at once. */
function exportInMemory(sodium: Awaited<ReturnType<typeof loadSodium>>, profileDir: string, db: Db, file: string): void {
  db.pragma('wal_checkpoint(TRUNCATE)');
  const files = ['vault.json', 'parley.db'].map((name) => ({ name, data: readFileSync(path.join(profileDir, name)) }));
  for (const name of readdirSync(path.join(profileDir, 'attachments'))) files.push({ name: `attachments/${name}`, data: readFileSync(path.join(profileDir, 'attachments', name)) });
  writeFileSync(file, sealBackup(sodium, packContainer(files), KEY));
}

/** Child: one export, then its time and peak memory as JSON on stdout. */
async function child(variant: Variant, profileDir: string, file: string): Promise<void> {
  const sodium = await loadSodium();
  const db = await openProfileDb(profileDir);
  const started = performance.now();
  if (variant === 'stream') await exportBackup(sodium, profileDir, db, file, KEY);
  else exportInMemory(sodium, profileDir, db, file);
  const ms = performance.now() - started;
  db.close();
  console.log(JSON.stringify({ ms, maxRssMb: process.resourceUsage().maxRSS / 1024 }));
}

function run(variant: Variant, profileDir: string, file: string): { ms: number; maxRssMb: number } {
  const output = execFileSync(process.execPath, [...process.execArgv, import.meta.filename, 'child', variant, profileDir, file], { encoding: 'utf8' });
  return JSON.parse(output.trim().split('\n').pop() ?? '{}') as { ms: number; maxRssMb: number };
}

async function main(): Promise<void> {
  const root = await mkdtemp(path.join(tmpdir(), 'parley-bench-backup-'));
  try {
    const sodium = await loadSodium();
    const profileDir = path.join(root, 'profile');
    await mkdir(path.join(profileDir, 'attachments'), { recursive: true });
    const { vault, masterKey } = createKeyring(sodium, PASSPHRASE, FAST);
    await writeVaultFile(path.join(profileDir, 'vault.json'), vault);
    const db = openDatabase(path.join(profileDir, 'parley.db'), deriveSubkey(sodium, masterKey, 'database'));
    migrate(db);
    db.close();
    for (let i = 0; i < MEGABYTES / FILE_MB; i += 1) {
      await writeFile(path.join(profileDir, 'attachments', `${i.toString(16).padStart(32, '0')}.bin`), randomBytes(FILE_MB * 1024 * 1024));
    }
    console.log(`Profile: ${MEGABYTES} MiB of attachments in ${MEGABYTES / FILE_MB} files, plus vault and database`);
    const baseline = run('in-memory', profileDir, path.join(root, 'baseline.parley-backup'));
    const streamed = run('stream', profileDir, path.join(root, 'streamed.parley-backup'));
    const [baseSize, streamSize] = await Promise.all([stat(path.join(root, 'baseline.parley-backup')), stat(path.join(root, 'streamed.parley-backup'))]);
    const row = (name: string, figures: { ms: number; maxRssMb: number }, bytes: number): string =>
      `${name.padEnd(24)} ${figures.ms.toFixed(0).padStart(8)} ms ${figures.maxRssMb.toFixed(0).padStart(8)} MiB peak RSS ${(bytes / 2 ** 20).toFixed(1).padStart(9)} MiB file`;
    console.log(row('in-memory (baseline)', baseline, baseSize.size));
    console.log(row('streaming', streamed, streamSize.size));
    console.log(`ratio streaming/baseline: time ${(streamed.ms / baseline.ms).toFixed(2)}, peak RSS ${(streamed.maxRssMb / baseline.maxRssMb).toFixed(2)}`);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

const [mode, variant, profileDir, file] = process.argv.slice(2);
if (mode === 'child' && (variant === 'stream' || variant === 'in-memory') && profileDir !== undefined && file !== undefined) await child(variant, profileDir, file);
else await main();
