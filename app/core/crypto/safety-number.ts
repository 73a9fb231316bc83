import { concatBytes, utf8 } from './bytes.js';
import type { Sodium } from './sodium.js';

/** Signal's numeric fingerprint: version 0, 5200 iterations of SHA-512, 30 digits per party. */
const FINGERPRINT_VERSION = Uint8Array.of(0, 0);
const ITERATIONS = 5200;
const CHUNKS = 6;
const CHUNK_BYTES = 5;

/** One party's 30 digits: SHA-512 iterated over version || identity key || stable id, then the key again each round. */
export function partyDigits(sodium: Sodium, identityKey: Uint8Array, stableId: string): string {
  let hash = concatBytes([FINGERPRINT_VERSION, identityKey, utf8.encode(stableId)]);
  for (let round = 0; round < ITERATIONS; round += 1) hash = sodium.crypto_hash_sha512(concatBytes([hash, identityKey]));
  let digits = '';
  for (let chunk = 0; chunk < CHUNKS; chunk += 1) {
    let value = 0;
    for (let at = chunk * CHUNK_BYTES; at < (chunk + 1) * CHUNK_BYTES; at += 1) value = value * 256 + (hash[at] ?? 0);
    digits += (value % 100_000).toString().padStart(5, '0');
  }
  return digits;
}

/** The 60-digit safety number of a pair: the two parties' digits, smaller first, so both sides see the same. */
export function safetyNumber(sodium: Sodium, a: { identityKey: Uint8Array; username: string }, b: { identityKey: Uint8Array; username: string }): string {
  const [first, second] = [partyDigits(sodium, a.identityKey, a.username), partyDigits(sodium, b.identityKey, b.username)].sort();
  return `${first}${second}`;
}

/** Twelve groups of five, the way the digits are read aloud. */
export function groupDigits(digits: string): string[] {
  return digits.match(/\d{5}/g) ?? [];
}

/** What the QR code carries; scanning the other side's code and comparing payloads checks both keys at once. */
export function safetyPayload(digits: string): string {
  return `PARLEY-SAFETY-1:${digits}`;
}
