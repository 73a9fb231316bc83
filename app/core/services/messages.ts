import type { Message } from '../../shared/domain.js';
import { missingCaseError, ParleyError } from '../../shared/errors.js';
import { equalBytes, fromHex, toHex } from '../crypto/bytes.js';
import { INITIAL_HEADER_BYTES } from '../crypto/initial-header-codec.js';
import { paddedLength } from '../crypto/padding.js';
import { HEADER_BYTES } from '../crypto/ratchet-header.js';
import { randomBytes } from '../crypto/random.js';
import { encodePayload, type SessionPayload } from '../crypto/session-envelope.js';
import { MESSAGE_ID_BYTES } from '../../../relay/protocol/index.js';
import { RelayReplyError } from '../net/errors.js';
import { Outbox } from '../net/outbox.js';
import type { Delivery, Receipt } from '../net/relay-client.js';
import { toContact, type ContactRecord } from '../store/contacts-repo.js';
import type { ContactsService } from './contacts.js';
import type { ProfileContext } from './context.js';
import { SerialQueue } from './serial-queue.js';
import type { SessionService } from './sessions.js';

export const DEFAULT_PAGE_SIZE = 50;

/** Relay refusals after which a message can never be delivered as it is. */
const PERMANENT_SEND_ERRORS = new Set<string>(['USER_NOT_FOUND', 'ENVELOPE_TOO_LARGE']);
/** A rate-limited SEND waits the relay's retryAfterMs and tries again, this many times at most. */
const RATE_LIMIT_RETRIES = 20;
/** Longest single wait honoured, so a confused relay cannot park a message for hours. */
const RATE_LIMIT_MAX_WAIT_MS = 30_000;

function wait(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
/** Session set-up failures after which the message is marked failed rather than retried. */
const PERMANENT_SESSION_ERRORS = new Set<string>(['PREKEY_BAD_SIGNATURE', 'PREKEY_BUNDLE_INVALID', 'CONTACT_UNKNOWN_USER']);
/** Bytes a session envelope adds to the payload at most: version, kind, sender key, initial header, ratchet header, tag, length. */
const SESSION_OVERHEAD = 2 + 32 + INITIAL_HEADER_BYTES + HEADER_BYTES + 16 + 4;

export class MessagesService {
  readonly outbox: Outbox;
  /** Session state is read, advanced and written by one task at a time (sends and receives alike). */
  readonly #sessionLock = new SerialQueue();

  constructor(
    private readonly ctx: ProfileContext,
    private readonly contacts: ContactsService,
    private readonly sessions: SessionService,
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
    if (contact.identityChanged === true) {
      throw new ParleyError('IDENTITY_CHANGED', `${contact.username}'s identity key changed; acknowledge it before sending`);
    }
    const message: Message = {
      id: toHex(randomBytes(MESSAGE_ID_BYTES)),
      contact: contact.username,
      direction: 'out',
      text,
      sentAt: Date.now(),
      status: 'pending',
    };
    // Sizing up front refuses an oversized message before anything is stored.
    paddedLength(encodePayload(this.#payload(message)).length + SESSION_OVERHEAD);
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
      // Under the session lock: the sender lookup below awaits, and a send must not advance the session meanwhile.
      await this.#sessionLock.push(() => this.#receive(delivery));
    } catch {
      /* left unacknowledged: the relay delivers it again on the next connection */
    }
  }

  async #receive(delivery: Delivery): Promise<void> {
    const messageId = toHex(delivery.frame.messageId);
    // A redelivery of something already stored (its ACK was lost): acknowledge again, decrypt nothing.
    if (this.ctx.messages.get(messageId) !== undefined) {
      delivery.acknowledge();
      return;
    }
    const now = Date.now();
    const outcome = this.sessions.open(delivery.frame.envelope, messageId, now);
    switch (outcome.kind) {
      case 'dropped': {
        const legacy = this.#openLegacy(delivery.frame.envelope, messageId);
        if (legacy !== undefined) this.#storeIncoming(legacy);
        delivery.acknowledge();
        return;
      }
      case 'failed':
        this.#storeIncoming(
          { id: messageId, contact: outcome.contact.username, direction: 'in', text: '', sentAt: delivery.frame.receivedAt, status: 'received', kind: 'undecryptable', errorCode: outcome.code },
        );
        delivery.acknowledge();
        return;
      case 'opened':
        break;
      default:
        throw missingCaseError(outcome);
    }
    const { payload } = outcome;
    let contact = outcome.contact;
    let newContact: ContactRecord | undefined;
    let changedIdentity: ContactRecord | undefined;
    if (contact === undefined) {
      const confirmed = await this.#lookupSender(payload.from, outcome.senderIdentityKey);
      if (confirmed === undefined) {
        delivery.acknowledge();
        return;
      }
      const known = this.ctx.contacts.get(payload.from);
      if (known === undefined) newContact = confirmed;
      else changedIdentity = confirmed;
      contact = confirmed;
    }
    const message: Message = { id: payload.id, contact: payload.from, direction: 'in', text: payload.text, sentAt: payload.sentAt, status: 'received' };
    const stored = this.ctx.db.transaction(() => {
      const contactAdded = newContact !== undefined && this.ctx.contacts.insert(newContact);
      if (changedIdentity !== undefined) this.ctx.contacts.replaceIdentity(changedIdentity.username, changedIdentity.identityKey, changedIdentity.agreementKey);
      outcome.commit(payload.from, now);
      return { contactAdded, messageAdded: this.ctx.messages.insert(message) };
    })();
    delivery.acknowledge();
    if (stored.contactAdded && newContact !== undefined) this.ctx.events.emit('contact.added', toContact(newContact));
    const updated = changedIdentity === undefined ? undefined : this.ctx.contacts.get(changedIdentity.username);
    if (updated !== undefined) this.ctx.events.emit('contact.updated', toContact(updated));
    if (stored.messageAdded) this.ctx.events.emit('message.added', message);
  }

  /**
   * An envelope v1 (sealed and signed, no session) from a known contact: what the relay may still hold
   * from before this profile moved to sessions. Accepted so nothing queued at the upgrade is lost; never sent.
   */
  #openLegacy(envelope: Uint8Array, messageId: string): Message | undefined {
    let opened;
    try {
      opened = this.ctx.crypto.open(envelope);
    } catch {
      return undefined;
    }
    const { payload, senderIdentityKey } = opened;
    const contact = this.ctx.contacts.get(payload.from);
    const genuine = contact !== undefined && equalBytes(contact.identityKey, senderIdentityKey);
    if (!genuine || payload.to !== this.ctx.username || payload.id !== messageId) return undefined;
    return { id: payload.id, contact: payload.from, direction: 'in', text: payload.text, sentAt: payload.sentAt, status: 'received' };
  }

  #storeIncoming(message: Message): void {
    const added = this.ctx.messages.insert(message);
    if (added) this.ctx.events.emit('message.added', message);
  }

  /** A first message from someone new (or with a new key): the relay-published identity key must be the one in the session. */
  async #lookupSender(username: string, identityKey: Uint8Array): Promise<ContactRecord | undefined> {
    let record: ContactRecord;
    try {
      record = await this.contacts.lookup(username);
    } catch (error) {
      if (error instanceof ParleyError && (error.code === 'CONTACT_UNKNOWN_USER' || error.code === 'CONTACT_KEY_MISMATCH')) return undefined;
      throw error;
    }
    return equalBytes(record.identityKey, identityKey) ? record : undefined;
  }

  async #transmit(id: string): Promise<void> {
    const message = this.ctx.messages.get(id);
    if (message === undefined || message.status !== 'pending') return;
    const envelope = this.ctx.messages.envelope(id) ?? (await this.#sessionLock.push(() => this.#encrypt(message)));
    if (envelope === undefined) return;
    const contact = this.#contact(message.contact);
    for (let attempt = 0; ; attempt += 1) {
      try {
        // With a receipt: the relay tells us when the recipient's device has stored it (ttlMs 0: no expiry).
        await this.ctx.relay.request({ name: 'SEND_WITH_RECEIPT', to: contact.username, messageId: fromHex(id), envelope, ttlMs: 0 });
        break;
      } catch (error) {
        if (error instanceof RelayReplyError && error.code === 'RATE_LIMITED' && attempt < RATE_LIMIT_RETRIES) {
          // The relay said when to come back; the envelope is already sealed, so the retry resends the same bytes.
          await wait(Math.min(Math.max(error.retryAfterMs, 1), RATE_LIMIT_MAX_WAIT_MS));
          continue;
        }
        if (error instanceof RelayReplyError && PERMANENT_SEND_ERRORS.has(error.code)) {
          this.#setStatus(id, 'failed');
          return;
        }
        if (error instanceof RelayReplyError && error.code === 'RATE_LIMITED') {
          throw new ParleyError('RELAY_RATE_LIMITED', 'The relay is limiting how fast this account sends; the message will go later');
        }
        if (error instanceof RelayReplyError && error.code === 'STORAGE_FULL') {
          throw new ParleyError('RELAY_STORAGE_FULL', 'The relay is out of storage; the message stays pending');
        }
        throw error instanceof ParleyError ? error : new ParleyError('RELAY_PROTOCOL_ERROR', 'The relay did not accept the message');
      }
    }
    this.ctx.messages.clearEnvelope(id);
    // Only from pending: the receipt may have overtaken this OK.
    this.#advance(id, 'sent', ['pending']);
  }

  /**
   * The recipient's device acknowledged a message we sent: it is delivered. Receipts for anything else
   * (unknown, already delivered, failed) are simply acknowledged, so the relay stops resending them. Never throws.
   */
  onReceipt(receipt: Receipt): void {
    const id = toHex(receipt.frame.messageId);
    try {
      if (this.#advance(id, 'delivered', ['pending', 'sent'])) this.ctx.messages.clearEnvelope(id);
    } catch {
      return; // not acknowledged: the relay sends the receipt again on the next connection
    }
    receipt.acknowledge();
  }

  #advance(id: string, status: Message['status'], from: readonly Message['status'][]): boolean {
    const updated = this.ctx.messages.advanceStatus(id, status, from);
    if (updated !== undefined) this.ctx.events.emit('message.updated', updated);
    return updated !== undefined;
  }

  /** Advance the session and store its state with the envelope, in one transaction; undefined when it must wait or failed. */
  async #encrypt(message: Message): Promise<Uint8Array | undefined> {
    const stored = this.ctx.messages.envelope(message.id);
    if (stored !== undefined) return stored;
    const contact = this.#contact(message.contact);
    if (contact.identityChanged === true) return undefined;
    let session;
    try {
      session = await this.sessions.ensureSession(contact);
    } catch (error) {
      if (error instanceof ParleyError && PERMANENT_SESSION_ERRORS.has(error.code)) {
        this.#setStatus(message.id, 'failed');
        return undefined;
      }
      if (error instanceof ParleyError && error.code === 'IDENTITY_CHANGED') {
        const updated = this.ctx.contacts.get(contact.username);
        if (updated !== undefined) this.ctx.events.emit('contact.updated', toContact(updated));
        return undefined;
      }
      throw error;
    }
    const { record, envelope } = this.sessions.encrypt(session, contact, this.#payload(message));
    this.ctx.db.transaction(() => {
      this.sessions.repo.put(record, Date.now());
      this.ctx.messages.setEnvelope(message.id, envelope);
    })();
    return envelope;
  }

  #setStatus(id: string, status: Message['status']): void {
    const updated = this.ctx.messages.setStatus(id, status);
    if (updated !== undefined) this.ctx.events.emit('message.updated', updated);
  }

  #payload(message: Message): SessionPayload {
    return { v: 2, id: message.id, from: this.ctx.username, to: message.contact, sentAt: message.sentAt, text: message.text };
  }

  #contact(username: string): ContactRecord {
    const contact = this.ctx.contacts.get(username);
    if (contact === undefined) throw new ParleyError('CONTACT_NOT_FOUND', 'There is no contact with that username');
    return contact;
  }
}
