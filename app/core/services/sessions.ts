import { ParleyError, type ErrorCode } from '../../shared/errors.js';
import { equalBytes } from '../crypto/bytes.js';
import { pqxdhInitiate, pqxdhRespond, type InitialHeader } from '../crypto/pqxdh.js';
import { initInitiator, initResponder, ratchetDecrypt, ratchetEncrypt } from '../crypto/ratchet.js';
import { decodePayload, encodePayload, openSessionEnvelope, sealSessionEnvelope, type SessionPayload } from '../crypto/session-envelope.js';
import { relayFailure } from '../net/errors.js';
import { prekeyBundleFromFrame } from '../net/prekey-bundle.js';
import type { ContactRecord } from '../store/contacts-repo.js';
import type { PrekeysRepository } from '../store/prekeys-repo.js';
import { SessionsRepository, type SessionRecord } from '../store/sessions-repo.js';
import type { ProfileContext } from './context.js';

/** The result of opening one delivered envelope. Nothing is written until `commit` runs. */
export type OpenOutcome =
  /** Nobody can be named as its sender: acknowledged and dropped (naming someone would let a forger plant messages). */
  | { readonly kind: 'dropped'; readonly code: ErrorCode }
  /** From a known contact, but it does not decrypt: shown as an undecryptable placeholder, the session untouched. */
  | { readonly kind: 'failed'; readonly contact: ContactRecord; readonly code: ErrorCode }
  | {
      readonly kind: 'opened';
      /** The known contact, or undefined when the sender still has to be looked up by payload.from. */
      readonly contact: ContactRecord | undefined;
      readonly senderIdentityKey: Uint8Array;
      readonly payload: SessionPayload;
      /** Write the advanced session (and delete used one-time prekeys); call inside the message's transaction. */
      readonly commit: (contact: string, now: number) => void;
    };

const failed = (code: ErrorCode, message: string): ParleyError => new ParleyError(code, message);

/** PQXDH + Double Ratchet sessions with contacts, over the encrypted store. */
export class SessionService {
  readonly repo: SessionsRepository;

  constructor(
    private readonly ctx: ProfileContext,
    private readonly prekeys: PrekeysRepository,
  ) {
    this.repo = new SessionsRepository(ctx.db);
  }

  /** The session with a contact, starting one from a freshly fetched prekey bundle when there is none. */
  async ensureSession(contact: ContactRecord): Promise<SessionRecord> {
    const existing = this.repo.get(contact.username);
    if (existing !== undefined) return existing;
    let reply;
    try {
      reply = await this.ctx.relay.request({ name: 'FETCH_PREKEYS', username: contact.username });
    } catch (error) {
      throw relayFailure(error, { USER_NOT_FOUND: 'CONTACT_UNKNOWN_USER', PREKEYS_UNAVAILABLE: 'SESSION_NOT_READY', RATE_LIMITED: 'RELAY_RATE_LIMITED' });
    }
    if (reply.name !== 'PREKEY_BUNDLE' || reply.username !== contact.username) throw failed('RELAY_PROTOCOL_ERROR', 'The relay answered with something else');
    const bundle = prekeyBundleFromFrame(reply);
    if (!equalBytes(bundle.identityKey, contact.identityKey)) {
      this.ctx.contacts.replaceIdentity(contact.username, bundle.identityKey, bundle.agreementKey);
      throw failed('IDENTITY_CHANGED', `${contact.username}'s identity key changed; check the safety number before sending`);
    }
    const handshake = pqxdhInitiate(this.ctx.sodium, this.ctx.identity, bundle);
    if (!handshake.ok) throw failed(handshake.error.code, handshake.error.message);
    const state = initInitiator(this.ctx.sodium, handshake.value.sk, bundle.signedPrekey.publicKey, handshake.value.ad);
    if (!state.ok) throw failed(state.error.code, state.error.message);
    return { contact: contact.username, state: state.value, initialHeader: handshake.value.header, baseKey: handshake.value.header.ephemeralKey };
  }

  /** Encrypt one payload; the caller stores the returned session with the envelope, in one transaction. */
  encrypt(record: SessionRecord, contact: ContactRecord, payload: SessionPayload): { record: SessionRecord; envelope: Uint8Array } {
    const result = ratchetEncrypt(this.ctx.sodium, record.state, encodePayload(payload));
    if (!result.ok) throw failed(result.error.code, result.error.message);
    const envelope = sealSessionEnvelope(this.ctx.sodium, contact.agreementKey, {
      senderIdentityKey: this.ctx.identity.identityKey,
      initialHeader: record.initialHeader,
      ratchetMessage: result.value.message,
    });
    return { record: { ...record, state: result.value.state }, envelope };
  }

  /** Open a delivered envelope without writing anything; see OpenOutcome. */
  open(sealed: Uint8Array, messageId: string, now: number): OpenOutcome {
    const envelope = openSessionEnvelope(this.ctx.sodium, this.ctx.identity, sealed);
    if (envelope === undefined) return { kind: 'dropped', code: 'DECRYPT_MALFORMED' };
    const contact = this.ctx.contacts.byIdentityKey(envelope.senderIdentityKey);
    const header = envelope.initialHeader;
    const fail = (code: ErrorCode): OpenOutcome => (contact === undefined ? { kind: 'dropped', code } : { kind: 'failed', contact, code });
    if (header !== null && !equalBytes(header.identityKey, envelope.senderIdentityKey)) return fail('DECRYPT_MALFORMED');

    const current = contact === undefined ? undefined : this.repo.get(contact.username);
    const known = [...(current === undefined ? [] : [current]), ...(contact === undefined ? [] : this.repo.archived(contact.username))];
    const used: { oneTime: number | null; pq: number | null } = { oneTime: null, pq: null };
    let candidates: SessionRecord[] = known;
    if (header !== null) {
      const same = known.find((record) => equalBytes(record.baseKey, header.ephemeralKey));
      if (same !== undefined) {
        candidates = [same];
      } else {
        const responded = this.#respond(header);
        if (!responded.ok) return fail(responded.code);
        candidates = [responded.record];
        used.oneTime = header.oneTimePrekeyId;
        used.pq = header.pqPrekeyId;
      }
    }
    // The current session first, then replaced ones (messages the peer sent before it saw ours).
    let firstError: ErrorCode = 'DECRYPT_FAILED';
    let start: SessionRecord | undefined;
    let decrypted: { state: SessionRecord['state']; plaintext: Uint8Array } | undefined;
    for (const [at, candidate] of candidates.entries()) {
      const result = ratchetDecrypt(this.ctx.sodium, candidate.state, envelope.ratchetMessage, now);
      if (result.ok) {
        start = candidate;
        decrypted = result.value;
        break;
      }
      if (at === 0) firstError = result.error.code;
    }
    if (start === undefined || decrypted === undefined) return fail(firstError);
    const payload = decodePayload(decrypted.plaintext);
    const addressed = payload !== undefined && payload.to === this.ctx.username && payload.id === messageId && payload.from !== this.ctx.username;
    if (payload === undefined || !addressed || (contact !== undefined && payload.from !== contact.username && header === null)) return fail('DECRYPT_MALFORMED');

    const next: SessionRecord = { ...start, state: decrypted.state, initialHeader: null };
    return {
      kind: 'opened',
      contact: contact?.username === payload.from ? contact : undefined,
      senderIdentityKey: envelope.senderIdentityKey,
      payload,
      commit: (username, at) => {
        // The session that just worked becomes the current one; the one it replaces is archived.
        const replaced = this.repo.get(username);
        if (replaced !== undefined && !equalBytes(replaced.baseKey, next.baseKey)) this.repo.archive(replaced, at);
        this.repo.unarchive(username, next.baseKey);
        this.repo.put({ ...next, contact: username }, at);
        if (used.oneTime !== null) this.prekeys.deleteOneTime(used.oneTime);
        if (used.pq !== null) this.prekeys.deletePqIfOneTime(used.pq);
      },
    };
  }

  #respond(header: InitialHeader): { ok: true; record: SessionRecord } | { ok: false; code: ErrorCode } {
    const signed = this.prekeys.signed(header.signedPrekeyId);
    const pq = this.prekeys.pq(header.pqPrekeyId);
    const oneTime = header.oneTimePrekeyId === null ? null : (this.prekeys.oneTime(header.oneTimePrekeyId) ?? undefined);
    if (signed === undefined || pq === undefined || oneTime === undefined) return { ok: false, code: 'PREKEY_UNKNOWN' };
    const handshake = pqxdhRespond(this.ctx.sodium, this.ctx.identity, header, {
      signedPrekey: signed.keyPair,
      oneTimePrekey: oneTime === null ? null : oneTime.keyPair,
      pqPrekey: pq.keyPair,
    });
    if (!handshake.ok) return { ok: false, code: handshake.error.code };
    const state = initResponder(handshake.value.sk, signed.keyPair, handshake.value.ad);
    return { ok: true, record: { contact: '', state, initialHeader: null, baseKey: header.ephemeralKey } };
  }
}
