import { openEnvelope, sealEnvelope, type EnvelopePayload, type OpenedEnvelope } from './envelope.js';
import type { IdentityKeyPair } from './identity.js';
import type { Sodium } from './sodium.js';

/**
 * The seam between services and message cryptography. Envelope v1 implements it today;
 * a session-based scheme (X3DH + Double Ratchet) replaces it without touching services.
 */
export interface MessageCrypto {
  seal(payload: EnvelopePayload, recipient: { agreementKey: Uint8Array }): Uint8Array;
  /** Throws ParleyError DECRYPT_FAILED or DECRYPT_BAD_SIGNATURE. */
  open(sealed: Uint8Array): OpenedEnvelope;
}

export function envelopeCrypto(sodium: Sodium, self: IdentityKeyPair): MessageCrypto {
  return {
    seal: (payload, recipient) => sealEnvelope(sodium, self, recipient.agreementKey, payload),
    open: (sealed) => openEnvelope(sodium, self, sealed),
  };
}
