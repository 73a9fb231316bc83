import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3-multiple-ciphers';
import { describe, expect, it } from 'vitest';
import { toHex } from '../../app/core/crypto/bytes.js';
import { IdentityKeyPair } from '../../app/core/crypto/identity.js';
import { randomBytes } from '../../app/core/crypto/random.js';
import { loadSodium } from '../../app/core/crypto/sodium.js';
import { CoreEvents } from '../../app/core/events.js';
import { ProfileSession } from '../../app/core/services/session.js';
import { openDatabase } from '../../app/core/store/db.js';
import { migrate } from '../../app/core/store/migrations.js';
import { DATABASE_FILE } from '../../relay/src/store/sqlite.js';
import { startTestRelay, type TestRelay } from '../support/relay.js';
import { WireClient } from '../support/wire-client.js';
import { useCleanups } from '../support/cleanups.js';

const DAY = 24 * 3600_000;
const POLICY = { target: 12, rotateAfterMs: 7 * DAY, graceMs: 14 * DAY };

const cleanups = useCleanups();

async function profileSession(relay: TestRelay): Promise<ProfileSession> {
  const sodium = await loadSodium();
  const dir = await mkdtemp(path.join(tmpdir(), 'parley-prekeys-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const db = openDatabase(path.join(dir, 'parley.db'), randomBytes(32));
  migrate(db);
  const session = new ProfileSession({
    sodium,
    db,
    identity: IdentityKeyPair.generate(sodium),
    username: `p${toHex(randomBytes(5))}`,
    relayUrl: relay.url,
    events: new CoreEvents(),
    prekeyPolicy: POLICY,
  });
  cleanups.push(() => session.close());
  await session.register();
  return session;
}

function relayCounts(relay: TestRelay, username: string): { oneTime: number; pq: number; spk: number | undefined } {
  const db = new Database(path.join(relay.dataDir, DATABASE_FILE), { readonly: true });
  try {
    const count = (sql: string): number => db.prepare<[string], number>(sql).pluck().get(username) ?? 0;
    return {
      oneTime: count('SELECT count(*) FROM one_time_prekeys WHERE username = ?'),
      pq: count('SELECT count(*) FROM pq_prekeys WHERE username = ? AND last_resort = 0'),
      spk: db.prepare<[string], number>('SELECT key_id FROM signed_prekeys WHERE username = ?').pluck().get(username),
    };
  } finally {
    db.close();
  }
}

describe('prekeys on the client', () => {
  it('publishes a full set at registration and replenishes when the relay says stock is low', async () => {
    const relay = await startTestRelay();
    cleanups.push(() => relay.close());
    const owner = await profileSession(relay);
    const name = owner.context.username;
    expect(relayCounts(relay, name)).toMatchObject({ oneTime: POLICY.target, pq: POLICY.target });
    expect(owner.prekeys.repo.counts()).toEqual({ oneTime: POLICY.target, pqOneTime: POLICY.target });

    const sodium = await loadSodium();
    const other = IdentityKeyPair.generate(sodium).toStored();
    const fetcher = await WireClient.registered(relay.url, { username: `f${toHex(randomBytes(5))}`, identityKey: other.identityKey, identitySecret: other.identitySecret, agreementKey: other.agreementKey, agreementSig: other.agreementSig });
    cleanups.push(() => fetcher.close());
    // Taking keys until fewer than 10 are left triggers PREKEYS_LOW; the owner tops its stock up again.
    for (let i = 0; i < 3; i += 1) expect((await fetcher.request({ name: 'FETCH_PREKEYS', username: name })).name).toBe('PREKEY_BUNDLE');
    await owner.prekeysPublished();
    await expect.poll(() => relayCounts(relay, name).oneTime).toBe(POLICY.target);
    expect(relayCounts(relay, name).pq).toBe(POLICY.target);
  });

  it('rotates the signed prekey on schedule and keeps the previous one through the grace period', async () => {
    const relay = await startTestRelay();
    cleanups.push(() => relay.close());
    const owner = await profileSession(relay);
    const { repo } = owner.prekeys;
    const first = repo.currentSigned();
    if (first === undefined) throw new Error('no signed prekey');
    expect(relayCounts(relay, owner.context.username).spk).toBe(first.id);

    await owner.prekeys.onOnline(first.createdAt + DAY);
    expect(repo.currentSigned()?.id).toBe(first.id);

    await owner.prekeys.onOnline(first.createdAt + 8 * DAY);
    const second = repo.currentSigned();
    expect(second?.id).not.toBe(first.id);
    expect(relayCounts(relay, owner.context.username).spk).toBe(second?.id);
    expect(repo.signed(first.id)?.retiredAt).toBe(first.createdAt + 8 * DAY);

    await owner.prekeys.onOnline(first.createdAt + 8 * DAY + 15 * DAY);
    expect(repo.signed(first.id)).toBeUndefined();
    expect(repo.signed(second?.id ?? -1)).toBeDefined();
  });
});
