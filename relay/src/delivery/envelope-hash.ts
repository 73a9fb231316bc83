import { webcrypto } from 'node:crypto';

/** Names one envelope by its recipient and message id as a small integer: a hash, so two envelopes may share one. */
export type EnvelopeHash = number & { readonly __brand: 'EnvelopeHash' };

export type EnvelopeHasher = (recipient: string, messageId: Uint8Array) => EnvelopeHash;

/**
 * A hasher keyed with random odd multipliers (FNV-style over the id's bytes, then the recipient's characters). Ids are
 * chosen by clients, and one who could aim them at one hash would lengthen every lookup's chain.
 * The result fits V8's small integers, so a Map keyed by it hashes and compares a number, where a string key cost a
 * string built, hashed and compared per lookup.
 */
export function envelopeHasher(): EnvelopeHasher {
  const [idMultiplier = 1, nameMultiplier = 1, mix = 1] = webcrypto.getRandomValues(new Uint32Array(3)).map((m) => m | 1);
  return (recipient, messageId) => {
    let h = 0;
    for (let i = 0; i < messageId.length; i++) h = Math.imul(h ^ (messageId[i] as number), idMultiplier);
    for (let i = 0; i < recipient.length; i++) h = Math.imul(h ^ recipient.charCodeAt(i), nameMultiplier);
    // The high bits are the well-mixed ones; 30 of them stay a small integer.
    return (Math.imul(h ^ (h >>> 16), mix) >>> 2) as EnvelopeHash;
  };
}
