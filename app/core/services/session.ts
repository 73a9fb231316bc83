import { ParleyError } from '../../shared/errors.js';
import type { IdentityKeyPair } from '../crypto/identity.js';
import { envelopeCrypto } from '../crypto/message-crypto.js';
import type { Sodium } from '../crypto/sodium.js';
import type { CoreEvents } from '../events.js';
import { authAuthenticator, registerAuthenticator } from '../net/authenticate.js';
import { RelayClient } from '../net/relay-client.js';
import { ContactsRepository } from '../store/contacts-repo.js';
import type { Db } from '../store/db.js';
import { MessagesRepository } from '../store/messages-repo.js';
import { ContactsService } from './contacts.js';
import { HistoryService } from './history.js';
import type { ProfileContext } from './context.js';
import { MessagesService } from './messages.js';
import { PrekeyService, type PrekeyPolicy } from './prekeys.js';
import { SafetyService } from './safety.js';
import { RegistrationLockService } from './registration-lock.js';
import { SerialQueue } from './serial-queue.js';
import { SessionService } from './sessions.js';

export interface SessionOptions {
  sodium: Sodium;
  db: Db;
  identity: IdentityKeyPair;
  username: string;
  relayUrl: string;
  events: CoreEvents;
  prekeyPolicy?: PrekeyPolicy;
}

/**
 * An unlocked profile at work: the services, the relay connection, and the order of incoming deliveries.
 * Deliveries are processed one at a time, in the order the relay sent them.
 */
export class ProfileSession {
  readonly context: ProfileContext;
  readonly contacts: ContactsService;
  readonly messages: MessagesService;
  readonly prekeys: PrekeyService;
  readonly sessions: SessionService;
  readonly safety: SafetyService;
  readonly history: HistoryService;
  readonly registrationLock: RegistrationLockService;
  readonly #deliveries = new SerialQueue();
  /** Prekey publishing, one round at a time; profile creation waits for the first. */
  readonly #publishing = new SerialQueue();
  #syncedGeneration = 0;
  readonly #syncWaiters = new Set<() => void>();

  constructor(options: SessionOptions) {
    const { sodium, identity, username, events } = options;
    const relay = new RelayClient(
      { url: options.relayUrl, authenticate: authAuthenticator(sodium, identity, username) },
      {
        state: (state) => {
          events.emit('connection.changed', state);
          this.#notifySync();
        },
        online: () => {
          void this.#publishing.push(() => this.prekeys.onOnline()).catch(() => undefined);
          void this.messages.outbox.flush();
        },
        prekeysLow: (counts) => void this.#publishing.push(() => this.prekeys.replenish(counts)).catch(() => undefined),
        deliver: (delivery) => void this.#deliveries.push(() => this.messages.receive(delivery)),
        // In line with deliveries: the relay sends waiting receipts before DRAINED, so whenSynced covers them too.
        receipt: (receipt) => void this.#deliveries.push(() => this.messages.onReceipt(receipt)),
        // Queued behind the deliveries that preceded it: when it runs, all of them are stored and acknowledged.
        drained: (generation) => void this.#deliveries.push(() => this.#markSynced(generation)),
      },
    );
    this.context = {
      ...options,
      crypto: envelopeCrypto(sodium, identity),
      contacts: new ContactsRepository(options.db),
      messages: new MessagesRepository(options.db),
      relay,
    };
    this.contacts = new ContactsService(this.context);
    this.prekeys = new PrekeyService(this.context, options.prekeyPolicy);
    this.sessions = new SessionService(this.context, this.prekeys.repo);
    this.messages = new MessagesService(this.context, this.contacts, this.sessions);
    this.safety = new SafetyService(this.context, () => void this.messages.outbox.flush());
    this.registrationLock = new RegistrationLockService(this.context);
    this.history = new HistoryService(options.db);
  }

  /**
   * Connect with REGISTER (profile creation); throws RELAY_* when the relay cannot or will not register us.
   * With the code of the username's registration lock, take the name over from its previous keys.
   */
  async register(registrationLockCode?: string): Promise<void> {
    const { sodium, identity, username } = this.context;
    await this.context.relay.connectOnce(registerAuthenticator(sodium, identity, username, registrationLockCode));
    // The relay keeps the lock on the name across the move.
    if (registrationLockCode !== undefined) this.registrationLock.remember(true);
    // Others can start sessions with this profile as soon as creation returns.
    await this.#publishing.push(() => this.prekeys.onOnline());
  }

  /** Resolves when prekey publishing queued so far has finished (tests, and the CLI before it exits). */
  prekeysPublished(): Promise<void> {
    return this.#publishing.idle();
  }

  /** Connect with AUTH in the background, reconnecting until close. */
  connect(): void {
    this.context.relay.start();
  }

  get synced(): boolean {
    const { relay } = this.context;
    return relay.online && this.#syncedGeneration === relay.generation;
  }

  /** Resolves once the current connection's queue has been drained and stored; RELAY_UNREACHABLE after timeoutMs. */
  whenSynced(timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (!this.synced) return;
        clearTimeout(timer);
        this.#syncWaiters.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.#syncWaiters.delete(check);
        reject(new ParleyError('RELAY_UNREACHABLE', 'Not synchronised with the relay in time'));
      }, timeoutMs);
      this.#syncWaiters.add(check);
      check();
    });
  }

  async close(): Promise<void> {
    await this.context.relay.stop();
    await this.#deliveries.idle();
    this.messages.outbox.stop();
    await this.messages.outbox.idle();
    await this.#publishing.idle();
    this.context.db.close();
    this.context.identity.wipe(this.context.sodium);
    for (const waiter of [...this.#syncWaiters]) waiter();
  }

  #markSynced(generation: number): void {
    if (generation !== this.context.relay.generation) return;
    this.#syncedGeneration = generation;
    this.#notifySync();
  }

  #notifySync(): void {
    for (const waiter of [...this.#syncWaiters]) waiter();
  }
}
