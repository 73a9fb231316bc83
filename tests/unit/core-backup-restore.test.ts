import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { deriveSubkey } from '../../app/core/crypto/kdf.js';
import { loadSodium, type Sodium } from '../../app/core/crypto/sodium.js';
import { exportBackup, importBackup } from '../../app/core/services/backup.js';
import { unpackContainer } from '../../app/core/backup/container.js';
import { openBackup } from '../../app/core/backup/format.js';
import { randomBytes } from '../../app/core/crypto/random.js';
import { AttachmentStore } from '../../app/core/store/attachments.js';
import { openDatabase, type Db } from '../../app/core/store/db.js';
import { migrate } from '../../app/core/store/migrations.js';
import { createKeyring, openWithPassphrase } from '../../app/core/vault/keyring.js';
import { writeVaultFile } from '../../app/core/vault/vault-file.js';
import { parseVault } from '../../app/core/vault/format.js';
import { codeOfAsync } from '../support/error-code.js';

const PASS = 'correct horse battery';
const BACKUP = { passphrase: 'the backup has its own passphrase' };
const FAST = { opslimit: 1, memlimit: 8 * 1024 * 1024 };
let sodium: Sodium;
let root: string;
const open: Db[] = [];

beforeAll(async () => {
  sodium = await loadSodium();
});
beforeEach(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'parley-restore-'));
});
afterEach(async () => {
  for (const db of open.splice(0)) if (db.open) db.close();
  await rm(root, { recursive: true, force: true });
});

/** A profile folder as the core lays it out: vault, encrypted database (with uncheckpointed WAL), attachments. */
async function makeProfile(dir: string): Promise<{ db: Db; attachmentId: string }> {
  await mkdir(dir, { recursive: true });
  const { vault, masterKey } = createKeyring(sodium, PASS, FAST);
  await writeVaultFile(path.join(dir, 'vault.json'), vault);
  const db = openDatabase(path.join(dir, 'parley.db'), deriveSubkey(sodium, masterKey, 'database'));
  open.push(db);
  migrate(db);
  db.prepare(`INSERT INTO contacts (username, identity_key, agreement_key, added_at) VALUES ('bob', x'01', x'02', 3)`).run();
  db.prepare(`INSERT INTO messages (id, contact, direction, text, sent_at, status) VALUES (?, 'bob', 'in', 'backup canary 51c0', 1, 'received')`).run('e'.repeat(32));
  const info = await new AttachmentStore(sodium, db, path.join(dir, 'attachments')).put(Buffer.from('attachment canary 9f2d'), { mimeType: 'text/plain', thumbnail: Buffer.from('thumb') });
  return { db, attachmentId: info.id };
}

async function openRestored(dir: string): Promise<Db> {
  const vault = parseVault(await readFile(path.join(dir, 'vault.json')));
  const db = openDatabase(path.join(dir, 'parley.db'), deriveSubkey(sodium, openWithPassphrase(sodium, vault, PASS), 'database'));
  open.push(db);
  return db;
}

describe('whole-profile backup', () => {
  it('restores the database (including what was still in the WAL), the vault and the attachments', async () => {
    const source = path.join(root, 'source');
    const { db, attachmentId } = await makeProfile(source);
    const file = path.join(root, 'profile.parley-backup');
    await exportBackup(sodium, source, db, file, BACKUP);
    const bytes = await readFile(file);
    for (const canary of ['backup canary 51c0', 'attachment canary 9f2d', 'bob']) expect(bytes.includes(canary)).toBe(false);

    const target = path.join(root, 'target');
    await importBackup(sodium, target, file, BACKUP);
    const restored = await openRestored(target);
    expect(restored.prepare('SELECT text FROM messages').all()).toEqual([{ text: 'backup canary 51c0' }]);
    expect(restored.prepare('SELECT username, identity_key FROM contacts').all()).toEqual([{ username: 'bob', identity_key: Buffer.from([1]) }]);
    const attachments = new AttachmentStore(sodium, restored, path.join(target, 'attachments'));
    expect(Buffer.from(await attachments.get(attachmentId)).toString()).toBe('attachment canary 9f2d');
    expect(Buffer.from(await attachments.getThumbnail(attachmentId)).toString()).toBe('thumb');
  });

  it('streams files larger than a chunk into the backup byte for byte', async () => {
    const source = path.join(root, 'source');
    const { db } = await makeProfile(source);
    const large = randomBytes(300_017);
    const info = await new AttachmentStore(sodium, db, path.join(source, 'attachments')).put(large, { mimeType: 'application/octet-stream' });
    const file = path.join(root, 'large.parley-backup');
    await exportBackup(sodium, source, db, file, BACKUP);
    const entries = unpackContainer(openBackup(sodium, await readFile(file), BACKUP));
    const names = (await readdir(path.join(source, 'attachments'))).map((name) => `attachments/${name}`);
    expect(entries.map((entry) => entry.name).sort()).toEqual(['parley.db', 'vault.json', ...names].sort());
    expect(names).toContain(`attachments/${info.id}.bin`);
    for (const entry of entries) expect((await readFile(path.join(source, ...entry.name.split('/')))).equals(entry.data), entry.name).toBe(true);
    expect(await readdir(root)).not.toContain('large.parley-backup.tmp');
  });

  it('leaves the target as it was on a wrong key, a damaged file, or a target that is not empty', async () => {
    const source = path.join(root, 'source');
    const { db } = await makeProfile(source);
    const file = path.join(root, 'profile.parley-backup');
    await exportBackup(sodium, source, db, file, BACKUP);
    const target = path.join(root, 'target');
    expect(await codeOfAsync(() => importBackup(sodium, target, file, { passphrase: 'wrong passphrase for this' }))).toBe('BACKUP_WRONG_KEY');
    const bytes = await readFile(file);
    await writeFile(path.join(root, 'cut'), bytes.subarray(0, Math.floor(bytes.length / 2)));
    expect(await codeOfAsync(() => importBackup(sodium, target, path.join(root, 'cut'), BACKUP))).toBe('BACKUP_CORRUPT');
    expect(await readdir(target).catch(() => [])).toEqual([]);

    const before = await readFile(path.join(source, 'vault.json'));
    expect(await codeOfAsync(() => importBackup(sodium, source, file, BACKUP))).toBe('BACKUP_TARGET_NOT_EMPTY');
    expect(await readFile(path.join(source, 'vault.json'))).toEqual(before);
    expect(await codeOfAsync(() => exportBackup(sodium, source, db, path.join(root, 'weak'), { passphrase: 'password1' }))).toBe('VAULT_WEAK_PASSPHRASE');
  });
});
