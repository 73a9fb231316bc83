import { KEY_BYTES, SIGNATURE_BYTES } from './limits.js';
import { MLKEM768_PUBLIC_KEY_BYTES } from './prekeys.js';

/** A one-time X25519 prekey as carried in PUBLISH_ONE_TIME_PREKEYS and PREKEY_BUNDLE. */
export interface OneTimePrekeyEntry {
  readonly keyId: number;
  readonly publicKey: Uint8Array;
}

/** A signed ML-KEM-768 prekey as carried in PUBLISH_PQ_PREKEYS. */
export interface PqPrekeyEntry {
  readonly keyId: number;
  readonly lastResort: boolean;
  readonly publicKey: Uint8Array;
  readonly signature: Uint8Array;
}

const ONE_TIME_ENTRY_BYTES = 4 + KEY_BYTES;
const PQ_ENTRY_BYTES = 4 + 1 + MLKEM768_PUBLIC_KEY_BYTES + SIGNATURE_BYTES;

export function encodeOneTimePrekeys(entries: readonly OneTimePrekeyEntry[]): Uint8Array {
  const out = new Uint8Array(entries.length * ONE_TIME_ENTRY_BYTES);
  const view = new DataView(out.buffer);
  entries.forEach((entry, i) => {
    view.setUint32(i * ONE_TIME_ENTRY_BYTES, entry.keyId);
    out.set(entry.publicKey, i * ONE_TIME_ENTRY_BYTES + 4);
  });
  return out;
}

/** The entries, or undefined when the bytes are not a whole number of well-formed entries. */
export function decodeOneTimePrekeys(bytes: Uint8Array): OneTimePrekeyEntry[] | undefined {
  if (bytes.length % ONE_TIME_ENTRY_BYTES !== 0) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Array.from({ length: bytes.length / ONE_TIME_ENTRY_BYTES }, (_, i) => ({
    keyId: view.getUint32(i * ONE_TIME_ENTRY_BYTES),
    publicKey: bytes.slice(i * ONE_TIME_ENTRY_BYTES + 4, (i + 1) * ONE_TIME_ENTRY_BYTES),
  }));
}

export function encodePqPrekeys(entries: readonly PqPrekeyEntry[]): Uint8Array {
  const out = new Uint8Array(entries.length * PQ_ENTRY_BYTES);
  const view = new DataView(out.buffer);
  entries.forEach((entry, i) => {
    const at = i * PQ_ENTRY_BYTES;
    view.setUint32(at, entry.keyId);
    out[at + 4] = entry.lastResort ? 1 : 0;
    out.set(entry.publicKey, at + 5);
    out.set(entry.signature, at + 5 + MLKEM768_PUBLIC_KEY_BYTES);
  });
  return out;
}

export function decodePqPrekeys(bytes: Uint8Array): PqPrekeyEntry[] | undefined {
  if (bytes.length % PQ_ENTRY_BYTES !== 0) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const entries: PqPrekeyEntry[] = [];
  for (let at = 0; at < bytes.length; at += PQ_ENTRY_BYTES) {
    const flag = bytes[at + 4];
    if (flag !== 0 && flag !== 1) return undefined;
    entries.push({
      keyId: view.getUint32(at),
      lastResort: flag === 1,
      publicKey: bytes.slice(at + 5, at + 5 + MLKEM768_PUBLIC_KEY_BYTES),
      signature: bytes.slice(at + 5 + MLKEM768_PUBLIC_KEY_BYTES, at + PQ_ENTRY_BYTES),
    });
  }
  return entries;
}
