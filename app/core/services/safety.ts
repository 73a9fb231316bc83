import type { Contact, SafetyNumber } from '../../shared/domain.js';
import { ParleyError } from '../../shared/errors.js';
import { safetyNumber, safetyPayload } from '../crypto/safety-number.js';
import { toContact, type ContactRecord } from '../store/contacts-repo.js';
import { SessionsRepository } from '../store/sessions-repo.js';
import type { ProfileContext } from './context.js';
import { qrSvg } from './qr-svg.js';

/** Safety numbers, verification marks, and acknowledging a changed identity key. */
export class SafetyService {
  readonly #sessions: SessionsRepository;

  constructor(
    private readonly ctx: ProfileContext,
    /** Called after an acknowledgement, so messages held for the contact go out. */
    private readonly resumeSending: () => void,
  ) {
    this.#sessions = new SessionsRepository(ctx.db);
  }

  /** The digits and QR code for this profile and a contact. */
  async get(contactName: string): Promise<SafetyNumber> {
    const contact = this.#contact(contactName);
    const digits = this.digits(contact);
    const payload = safetyPayload(digits);
    return { contact: contact.username, digits, payload, qrSvg: await qrSvg(payload), verified: contact.verified === true, identityChanged: contact.identityChanged === true };
  }

  digits(contact: ContactRecord): string {
    return safetyNumber(this.ctx.sodium, { identityKey: this.ctx.identity.identityKey, username: this.ctx.username }, { identityKey: contact.identityKey, username: contact.username });
  }

  /** With a scanned payload, verify only when it matches this side's. */
  markVerified(contactName: string, verified: boolean, scannedPayload?: string): Contact {
    const contact = this.#contact(contactName);
    if (scannedPayload !== undefined && scannedPayload.trim() !== safetyPayload(this.digits(contact))) {
      throw new ParleyError('SAFETY_NUMBER_MISMATCH', 'The scanned code does not match this safety number');
    }
    this.ctx.contacts.setVerified(contact.username, verified);
    return this.#updated(contact.username);
  }

  acknowledgeIdentity(contactName: string): Contact {
    const contact = this.#contact(contactName);
    // The old session belongs to the old key: the next send starts a new one.
    this.ctx.db.transaction(() => {
      this.ctx.contacts.acknowledgeIdentity(contact.username);
      this.#sessions.delete(contact.username);
    })();
    const updated = this.#updated(contact.username);
    this.resumeSending();
    return updated;
  }

  #updated(username: string): Contact {
    const record = this.ctx.contacts.get(username);
    if (record === undefined) throw new ParleyError('CONTACT_NOT_FOUND', 'There is no contact with that username');
    const contact = toContact(record);
    this.ctx.events.emit('contact.updated', contact);
    return contact;
  }

  #contact(username: string): ContactRecord {
    const contact = this.ctx.contacts.get(username);
    if (contact === undefined) throw new ParleyError('CONTACT_NOT_FOUND', 'There is no contact with that username');
    return contact;
  }
}
