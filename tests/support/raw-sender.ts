import type { IdentityKeyPair } from '../../app/core/crypto/identity.js';
import { pqxdhInitiate, type InitialHeader, type PrekeyBundle } from '../../app/core/crypto/pqxdh.js';
import { initInitiator, ratchetEncrypt } from '../../app/core/crypto/ratchet.js';
import type { RatchetState } from '../../app/core/crypto/ratchet-state.js';
import { encodePayload, sealSessionEnvelope, type SessionPayload } from '../../app/core/crypto/session-envelope.js';
import type { Sodium } from '../../app/core/crypto/sodium.js';
import { unwrap } from './sessions.js';

/** A sender outside any core (a hostile or foreign client): PQXDH from a fetched bundle, then raw envelopes. */
export class RawSessionSender {
  #state: RatchetState;
  readonly header: InitialHeader;

  constructor(
    private readonly sodium: Sodium,
    private readonly identity: IdentityKeyPair,
    private readonly bundle: PrekeyBundle,
  ) {
    const handshake = unwrap(pqxdhInitiate(sodium, identity, bundle));
    this.header = handshake.header;
    this.#state = unwrap(initInitiator(sodium, handshake.sk, bundle.signedPrekey.publicKey, handshake.ad));
  }

  /** The next ratchet message, unsealed. */
  next(payload: SessionPayload): Uint8Array {
    const { state, message } = unwrap(ratchetEncrypt(this.sodium, this.#state, encodePayload(payload)));
    this.#state = state;
    return message;
  }

  /** Seal a ratchet message (always with the initial header: this sender never reads replies). */
  seal(ratchetMessage: Uint8Array): Uint8Array {
    return sealSessionEnvelope(this.sodium, this.bundle.agreementKey, { senderIdentityKey: this.identity.identityKey, initialHeader: this.header, ratchetMessage });
  }

  envelope(payload: SessionPayload): Uint8Array {
    return this.seal(this.next(payload));
  }
}
