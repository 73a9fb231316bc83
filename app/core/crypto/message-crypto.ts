import { openEnvelope, sealEnvelope, type EnvelopePayload, type OpenedEnvelope } from './envelope.js';
import type { IdentityKeyPair } from './identity.js';
import type { Sodium } from './sodium.js';

/**
 * Envelope v1 (sealed and signed, no session). Parley now sends session envelopes (session-envelope.ts);
 * this is kept only to open v1 envelopes queued on a relay before a profile moved to sessions.
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
