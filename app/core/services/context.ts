import type { IdentityKeyPair } from '../crypto/identity.js';
import type { MessageCrypto } from '../crypto/message-crypto.js';
import type { Sodium } from '../crypto/sodium.js';
import type { CoreEvents } from '../events.js';
import type { RelayClient } from '../net/relay-client.js';
import type { ContactsRepository } from '../store/contacts-repo.js';
import type { Db } from '../store/db.js';
import type { MessagesRepository } from '../store/messages-repo.js';

/** Everything the services of an unlocked profile share. */
export interface ProfileContext {
  readonly sodium: Sodium;
  readonly username: string;
  readonly relayUrl: string;
  readonly identity: IdentityKeyPair;
  readonly crypto: MessageCrypto;
  readonly db: Db;
  readonly contacts: ContactsRepository;
  readonly messages: MessagesRepository;
  readonly relay: RelayClient;
  readonly events: CoreEvents;
}
