import { ParleyError } from '../../shared/errors.js';

/** Sealed envelope sizes; a plaintext is padded so that its sealed form is exactly one of these. */
export const ENVELOPE_BUCKETS = [256, 1024, 4 * 1024, 16 * 1024, 64 * 1024] as const;

/** Bytes crypto_box_seal adds (ephemeral public key + MAC). */
export const SEAL_OVERHEAD = 48;

/** The padded plaintext length for a plaintext of this length; MESSAGE_TOO_LARGE beyond the largest bucket. */
export function paddedLength(length: number): number {
  for (const bucket of ENVELOPE_BUCKETS) {
    if (length <= bucket - SEAL_OVERHEAD) return bucket - SEAL_OVERHEAD;
  }
  throw new ParleyError('MESSAGE_TOO_LARGE', 'The message is too large to send');
}

/** Zero-pad to the bucket size. */
export function pad(plaintext: Uint8Array): Uint8Array {
  const out = new Uint8Array(paddedLength(plaintext.length));
  out.set(plaintext);
  return out;
}
