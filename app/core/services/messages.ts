import type { Message } from '../../shared/domain.js';
import { ParleyError } from '../../shared/errors.js';
import { equalBytes, fromHex, toHex } from '../crypto/bytes.js';
import type { EnvelopePayload, OpenedEnvelope } from '../crypto/envelope.js';
import { randomBytes } from '../crypto/random.js';
import { MESSAGE_ID_BYTES } from '../../../relay/protocol/index.js';
import { RelayReplyError } from '../net/errors.js';
import { Outbox } from '../net/outbox.js';
import type { Delivery } from '../net/relay-client.js';
import { toContact, type ContactRecord } from '../store/contacts-repo.js';
import type { ContactsService } from './contacts.js';
import type { ProfileContext } from './context.js';

export const DEFAULT_PAGE_SIZE = 50;

/** Relay refusals after which a message can never be delivered as it is. */
const PERMANENT_SEND_ERRORS = new Set<string>(['USER_NOT_FOUND', 'ENVELOPE_TOO_LARGE']);

export class MessagesService {
  readonly outbox: Outbox;

  constructor(
    private readonly ctx: ProfileContext,
    private readonly contacts: ContactsService,
  ) {
    this.outbox = new Outbox(
      () => ctx.messages.pendingIds(),
      (id) => this.#transmit(id),
    );
  }

  list(contact: string, before: string | undefined, limit = DEFAULT_PAGE_SIZE): Message[] {
    this.#contact(contact);
    return this.ctx.messages.page(contact, limit, before);
  }

  /** Store as pending, then send if online (awaiting the relay's answer); offline it waits in the outbox. */
  async send(contactName: string, text: string): Promise<Message> {
    const contact = this.#contact(contactName);
    const message: Message = {
      id: toHex(randomBytes(MESSAGE_ID_BYTES)),
      contact: contact.username,
      direction: 'out',
      text,
      sentAt: Date.now(),
      status: 'pending',
    };
    // Sealing once up front refuses an oversized message before anything is stored.
    this.ctx.crypto.seal(this.#payload(message), contact);
    this.ctx.messages.insert(message);
    this.ctx.events.emit('message.added', message);
    if (this.ctx.relay.online) {
      try {
        await this.outbox.send(message.id);
      } catch {
        /* stays pending; the outbox retries after reconnecting */
      }
    }
    return this.ctx.messages.get(message.id) ?? message;
  }

  /**
   * Handle one delivered envelope. Stored (with a new contact, if the sender is new) in one transaction,
   * then acknowledged. Envelopes that can never be opened are acknowledged and dropped. Never throws.
   */
  async receive(delivery: Delivery): Promise<void> {
    try {
      await this.#receive(delivery);
    } catch {
      /* left unacknowledged: the relay delivers it again on the next connection */
    }
  }

  async #receive(delivery: Delivery): Promise<void> {
    const messageId = toHex(delivery.frame.messageId);
    const opened = this.#open(delivery.frame.envelope, messageId);
    if (opened === undefined) {
      delivery.acknowledge();
      return;
    }
    const { payload, senderIdentityKey } = opened;
    const known = this.ctx.contacts.get(payload.from);
    let newContact: ContactRecord | undefined;
    if (known === undefined) {
      newContact = await this.#lookupSender(payload.from, senderIdentityKey);
      if (newContact === undefined) {
        delivery.acknowledge();
        return;
      }
    } else if (!equalBytes(known.identityKey, senderIdentityKey)) {
      delivery.acknowledge();
      return;
    }
    const message: Message = { id: payload.id, contact: payload.from, direction: 'in', text: payload.text, sentAt: payload.sentAt, status: 'received' };
    const stored = this.ctx.db.transaction(() => ({
      contactAdded: newContact !== undefined && this.ctx.contacts.insert(newContact),
      messageAdded: this.ctx.messages.insert(message),
    }))();
    delivery.acknowledge();
    if (stored.contactAdded && newContact !== undefined) this.ctx.events.emit('contact.added', toContact(newContact));
    if (stored.messageAdded) this.ctx.events.emit('message.added', message);
  }

  /** Open and check addressing; undefined for an envelope that can never be accepted. */
  #open(envelope: Uint8Array, messageId: string): OpenedEnvelope | undefined {
    let opened: OpenedEnvelope;
    try {
      opened = this.ctx.crypto.open(envelope);
    } catch {
      return undefined;
    }
    const { payload } = opened;
    if (payload.to !== this.ctx.username || payload.id !== messageId || payload.from === this.ctx.username) return undefined;
    return opened;
  }

  /** A first message from someone new: their relay-published identity key must be the one that signed. */
  async #lookupSender(username: string, signingKey: Uint8Array): Promise<ContactRecord | undefined> {
    let record: ContactRecord;
    try {
      record = await this.contacts.lookup(username);
    } catch (error) {
      if (error instanceof ParleyError && (error.code === 'CONTACT_UNKNOWN_USER' || error.code === 'CONTACT_KEY_MISMATCH')) return undefined;
      throw error;
    }
    return equalBytes(record.identityKey, signingKey) ? record : undefined;
  }

  async #transmit(id: string): Promise<void> {
    const message = this.ctx.messages.get(id);
    if (message === undefined || message.status !== 'pending') return;
    const contact = this.#contact(message.contact);
    const envelope = this.ctx.crypto.seal(this.#payload(message), contact);
    try {
      await this.ctx.relay.request({ name: 'SEND', to: contact.username, messageId: fromHex(id), envelope });
    } catch (error) {
      if (error instanceof RelayReplyError && PERMANENT_SEND_ERRORS.has(error.code)) {
        this.#setStatus(id, 'failed');
        return;
      }
      throw error instanceof ParleyError ? error : new ParleyError('RELAY_PROTOCOL_ERROR', 'The relay did not accept the message');
    }
    this.#setStatus(id, 'sent');
  }

  #setStatus(id: string, status: Message['status']): void {
    const updated = this.ctx.messages.setStatus(id, status);
    if (updated !== undefined) this.ctx.events.emit('message.updated', updated);
  }

  #payload(message: Message): EnvelopePayload {
    return { v: 1, id: message.id, from: this.ctx.username, to: message.contact, sentAt: message.sentAt, text: message.text };
  }

  #contact(username: string): ContactRecord {
    const contact = this.ctx.contacts.get(username);
    if (contact === undefined) throw new ParleyError('CONTACT_NOT_FOUND', 'There is no contact with that username');
    return contact;
  }
}
