import { encodeOneTimePrekeys, encodePqPrekeys } from '../../../relay/protocol/index.js';
import { generateOneTimePrekeys, generatePqPrekey, generateSignedPrekey, type PqPrekeyRecord } from '../crypto/prekeys.js';
import { PrekeysRepository } from '../store/prekeys-repo.js';
import type { ProfileContext } from './context.js';

export interface PrekeyPolicy {
  /** One-time prekeys of each kind kept on the relay (default 50). */
  readonly target: number;
  /** Age after which the signed prekey is replaced (default 7 days). */
  readonly rotateAfterMs: number;
  /** How long a replaced signed prekey is kept for initial messages still in flight (default 14 days). */
  readonly graceMs: number;
}

export const DEFAULT_PREKEY_POLICY: PrekeyPolicy = { target: 50, rotateAfterMs: 7 * 24 * 3600_000, graceMs: 14 * 24 * 3600_000 };

/** Keeps this device's prekeys published: initial batch, replenishing, signed prekey rotation. */
export class PrekeyService {
  readonly repo: PrekeysRepository;

  constructor(
    private readonly ctx: ProfileContext,
    private readonly policy: PrekeyPolicy = DEFAULT_PREKEY_POLICY,
  ) {
    this.repo = new PrekeysRepository(ctx.db);
  }

  /**
   * On every new connection: publish a signed prekey (a new one when none exists or it is due for
   * rotation) and the last-resort ML-KEM key; the first time, a full batch of one-time keys.
   * Keys are stored here before they are published, so the relay never serves a key this device lacks.
   */
  async onOnline(now = Date.now()): Promise<void> {
    const { sodium, identity } = this.ctx;
    const current = this.repo.currentSigned();
    const firstTime = current === undefined;
    let signed = current;
    if (signed === undefined || now - signed.createdAt >= this.policy.rotateAfterMs) {
      const fresh = generateSignedPrekey(sodium, identity, this.repo.nextId());
      this.ctx.db.transaction(() => {
        this.repo.addSigned(fresh, now);
        this.repo.retireSignedExcept(fresh.id, now, this.policy.graceMs);
      })();
      signed = { ...fresh, createdAt: now, retiredAt: null };
    }
    await this.ctx.relay.request({ name: 'PUBLISH_SIGNED_PREKEY', keyId: signed.id, publicKey: signed.keyPair.publicKey, signature: signed.signature });
    if (!this.repo.hasLastResortPq()) {
      const lastResort = generatePqPrekey(sodium, identity, this.repo.nextId(), true);
      this.repo.addPq([lastResort], now);
      await this.#publishPq([lastResort]);
    }
    if (firstTime) await this.replenish({ oneTime: 0, pqOneTime: 0 }, now);
  }

  /** Bring the relay's stock of each kind back to the target (the relay told us its counts). */
  async replenish(relayCounts: { oneTime: number; pqOneTime: number }, now = Date.now()): Promise<void> {
    const { sodium, identity } = this.ctx;
    const oneTimeNeeded = Math.max(0, this.policy.target - relayCounts.oneTime);
    const pqNeeded = Math.max(0, this.policy.target - relayCounts.pqOneTime);
    const firstId = this.repo.nextId();
    const oneTime = generateOneTimePrekeys(sodium, firstId, oneTimeNeeded);
    const pq = Array.from({ length: pqNeeded }, (_, at) => generatePqPrekey(sodium, identity, firstId + oneTimeNeeded + at, false));
    this.ctx.db.transaction(() => {
      this.repo.addOneTime(oneTime, now);
      this.repo.addPq(pq, now);
    })();
    for (let at = 0; at < oneTime.length; at += 50) {
      const batch = oneTime.slice(at, at + 50).map((record) => ({ keyId: record.id, publicKey: record.keyPair.publicKey }));
      await this.ctx.relay.request({ name: 'PUBLISH_ONE_TIME_PREKEYS', prekeys: encodeOneTimePrekeys(batch) });
    }
    for (let at = 0; at < pq.length; at += 50) await this.#publishPq(pq.slice(at, at + 50));
  }

  async #publishPq(records: readonly PqPrekeyRecord[]): Promise<void> {
    const entries = records.map((record) => ({ keyId: record.id, lastResort: record.lastResort, publicKey: record.keyPair.publicKey, signature: record.signature }));
    await this.ctx.relay.request({ name: 'PUBLISH_PQ_PREKEYS', prekeys: encodePqPrekeys(entries) });
  }
}
