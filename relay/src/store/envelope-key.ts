/** Names one envelope by its recipient and message id, as a Map key: one character per id byte (ids are 16 bytes). */
export type EnvelopeKey = string & { readonly __brand: 'EnvelopeKey' };

export function envelopeKey(recipient: string, messageId: Uint8Array): EnvelopeKey {
  return `${recipient}\u0000${String.fromCharCode(...messageId)}` as EnvelopeKey;
}
