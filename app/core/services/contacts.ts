import type { Contact } from '../../shared/domain.js';
import { ParleyError } from '../../shared/errors.js';
import { verifyAgreementKey } from '../crypto/identity.js';
import { relayFailure } from '../net/errors.js';
import type { RelayReply } from '../net/relay-session.js';
import { toContact, type ContactRecord } from '../store/contacts-repo.js';
import type { ProfileContext } from './context.js';

export class ContactsService {
  constructor(private readonly ctx: ProfileContext) {}

  list(): Contact[] {
    return this.ctx.contacts.list().map(toContact);
  }

  /** Add a contact by username: look up and verify their keys on the relay. Idempotent. */
  async add(username: string): Promise<Contact> {
    if (username === this.ctx.username) throw new ParleyError('CONTACT_IS_SELF', 'You cannot add yourself as a contact');
    const existing = this.ctx.contacts.get(username);
    if (existing !== undefined) return toContact(existing);
    const record = await this.lookup(username);
    const added = this.ctx.contacts.insert(record);
    const stored = this.ctx.contacts.get(username) ?? record;
    if (added) this.ctx.events.emit('contact.added', toContact(stored));
    return toContact(stored);
  }

  /** Fetch a user's keys from the relay and check that the identity key vouches for the agreement key. */
  async lookup(username: string): Promise<ContactRecord> {
    let reply: RelayReply;
    try {
      reply = await this.ctx.relay.request({ name: 'LOOKUP', username });
    } catch (error) {
      throw relayFailure(error, { USER_NOT_FOUND: 'CONTACT_UNKNOWN_USER', USERNAME_INVALID: 'CONTACT_UNKNOWN_USER', RATE_LIMITED: 'RELAY_RATE_LIMITED' });
    }
    if (reply.name !== 'USER' || reply.username !== username) {
      throw new ParleyError('RELAY_PROTOCOL_ERROR', 'The relay answered the lookup with something else');
    }
    if (!verifyAgreementKey(this.ctx.sodium, reply.identityKey, reply.agreementKey, reply.agreementSig)) {
      throw new ParleyError('CONTACT_KEY_MISMATCH', 'The contact’s published keys do not match');
    }
    return { username, identityKey: reply.identityKey, agreementKey: reply.agreementKey, addedAt: Date.now() };
  }
}
