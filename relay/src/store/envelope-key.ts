/** Names one envelope by its recipient and message id, as a Map key: one character per id byte (ids are 16 bytes). */
export type EnvelopeKey = string & { readonly __brand: 'EnvelopeKey' };

export function envelopeKey(recipient: string, messageId: Uint8Array): EnvelopeKey {
  return `${recipient}\u0000${idChars(messageId)}` as EnvelopeKey;
}

/** The bytes as char codes. A SEND and its ACK name their envelope four times: spelling out an id's 16 bytes costs a third of spreading them. */
function idChars(m: Uint8Array): string {
  if (m.length !== 16) return String.fromCharCode(...m);
  return String.fromCharCode(m[0] ?? 0, m[1] ?? 0, m[2] ?? 0, m[3] ?? 0, m[4] ?? 0, m[5] ?? 0, m[6] ?? 0, m[7] ?? 0, m[8] ?? 0, m[9] ?? 0, m[10] ?? 0, m[11] ?? 0, m[12] ?? 0, m[13] ?? 0, m[14] ?? 0, m[15] ?? 0);
}
