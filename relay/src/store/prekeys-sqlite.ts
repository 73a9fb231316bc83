import type Database from 'better-sqlite3-multiple-ciphers';
import type { OneTimePrekeyEntry, PqPrekeyEntry } from '../../protocol/index.js';
import type { PrekeyCounts, PrekeyStore, SignedPrekeyRow, TakenBundle } from './prekeys.js';

interface SignedRow {
  key_id: number;
  public_key: Buffer;
  signature: Buffer;
}
interface OneTimeRow {
  key_id: number;
  public_key: Buffer;
}
interface PqRow {
  key_id: number;
  last_resort: number;
  public_key: Buffer;
  signature: Buffer;
}

/** Thrown inside a publish transaction to roll it back when it would overflow the stock. */
class StockFull extends Error {}

const asBytes = (buffer: Buffer): Uint8Array => new Uint8Array(buffer);

export function sqlitePrekeys(db: Database.Database): PrekeyStore {
  const upsertSigned = db.prepare<[string, number, Uint8Array, Uint8Array, number]>(
    `INSERT INTO signed_prekeys (username, key_id, public_key, signature, published_at) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (username) DO UPDATE SET key_id = excluded.key_id, public_key = excluded.public_key,
       signature = excluded.signature, published_at = excluded.published_at`,
  );
  const selectSigned = db.prepare<[string], SignedRow>('SELECT key_id, public_key, signature FROM signed_prekeys WHERE username = ?');
  const insertOneTime = db.prepare<[string, number, Uint8Array]>('INSERT OR REPLACE INTO one_time_prekeys (username, key_id, public_key) VALUES (?, ?, ?)');
  const countOneTime = db.prepare<[string], number>('SELECT count(*) FROM one_time_prekeys WHERE username = ?').pluck();
  const firstOneTime = db.prepare<[string], OneTimeRow>('SELECT key_id, public_key FROM one_time_prekeys WHERE username = ? ORDER BY key_id LIMIT 1');
  const deleteOneTime = db.prepare<[string, number]>('DELETE FROM one_time_prekeys WHERE username = ? AND key_id = ?');
  const insertPq = db.prepare<[string, number, number, Uint8Array, Uint8Array]>(
    'INSERT OR REPLACE INTO pq_prekeys (username, key_id, last_resort, public_key, signature) VALUES (?, ?, ?, ?, ?)',
  );
  const dropLastResort = db.prepare<[string]>('DELETE FROM pq_prekeys WHERE username = ? AND last_resort = 1');
  const countPq = db.prepare<[string], number>('SELECT count(*) FROM pq_prekeys WHERE username = ? AND last_resort = 0').pluck();
  const firstPq = db.prepare<[string], PqRow>(
    'SELECT key_id, last_resort, public_key, signature FROM pq_prekeys WHERE username = ? ORDER BY last_resort, key_id LIMIT 1',
  );
  const deletePq = db.prepare<[string, number]>('DELETE FROM pq_prekeys WHERE username = ? AND key_id = ? AND last_resort = 0');

  const addOneTime = db.transaction((username: string, prekeys: readonly OneTimePrekeyEntry[], limit: number): boolean => {
    for (const prekey of prekeys) insertOneTime.run(username, prekey.keyId, prekey.publicKey);
    if ((countOneTime.get(username) ?? 0) <= limit) return true;
    throw new StockFull();
  });
  const addPq = db.transaction((username: string, prekeys: readonly PqPrekeyEntry[], limit: number): boolean => {
    if (prekeys.some((prekey) => prekey.lastResort)) dropLastResort.run(username);
    for (const prekey of prekeys) insertPq.run(username, prekey.keyId, prekey.lastResort ? 1 : 0, prekey.publicKey, prekey.signature);
    if ((countPq.get(username) ?? 0) <= limit) return true;
    throw new StockFull();
  });
  const take = db.transaction((username: string): TakenBundle | undefined => {
    const signed = selectSigned.get(username);
    const pq = firstPq.get(username);
    if (signed === undefined || pq === undefined) return undefined;
    const oneTime = firstOneTime.get(username);
    if (oneTime !== undefined) deleteOneTime.run(username, oneTime.key_id);
    if (pq.last_resort === 0) deletePq.run(username, pq.key_id);
    return {
      signedPrekey: { keyId: signed.key_id, publicKey: asBytes(signed.public_key), signature: asBytes(signed.signature) },
      pqPrekey: { keyId: pq.key_id, lastResort: pq.last_resort === 1, publicKey: asBytes(pq.public_key), signature: asBytes(pq.signature) },
      oneTimePrekey: oneTime === undefined ? undefined : { keyId: oneTime.key_id, publicKey: asBytes(oneTime.public_key) },
    };
  });

  const rollsBack = (run: () => boolean): boolean => {
    try {
      return run();
    } catch (error) {
      if (error instanceof StockFull) return false;
      throw error;
    }
  };

  return {
    setSignedPrekey: (username, prekey: SignedPrekeyRow, now) => void upsertSigned.run(username, prekey.keyId, prekey.publicKey, prekey.signature, now),
    addOneTimePrekeys: (username, prekeys, limit) => rollsBack(() => addOneTime(username, prekeys, limit)),
    addPqPrekeys: (username, prekeys, limit) => rollsBack(() => addPq(username, prekeys, limit)),
    takeBundle: (username) => take(username),
    counts: (username): PrekeyCounts => ({
      oneTime: countOneTime.get(username) ?? 0,
      pqOneTime: countPq.get(username) ?? 0,
      published: selectSigned.get(username) !== undefined,
    }),
  };
}
