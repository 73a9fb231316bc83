import { z } from 'zod';
import { ParleyError } from '../../shared/errors.js';
import { fromHex, toHex, utf8 } from './bytes.js';
import type { RatchetState } from './ratchet-state.js';

const Hex = z.string().regex(/^(?:[0-9a-f]{2})*$/);
const Stored = z.object({
  v: z.literal(1),
  ad: Hex,
  dhs: z.object({ publicKey: Hex, secretKey: Hex }),
  dhr: Hex.nullable(),
  rk: Hex,
  cks: Hex.nullable(),
  ckr: Hex.nullable(),
  ns: z.number().int().nonnegative(),
  nr: z.number().int().nonnegative(),
  pn: z.number().int().nonnegative(),
  skipped: z.array(z.object({ dh: Hex, n: z.number().int().nonnegative(), mk: Hex, storedAt: z.number() })),
});

const hexOrNull = (bytes: Uint8Array | null): string | null => (bytes === null ? null : toHex(bytes));
const bytesOrNull = (hex: string | null): Uint8Array | null => (hex === null ? null : fromHex(hex));

/** Ratchet state as bytes for the encrypted database (never for logs or the wire). */
export function encodeRatchetState(state: RatchetState): Uint8Array {
  return utf8.encode(
    JSON.stringify({
      v: state.v,
      ad: toHex(state.ad),
      dhs: { publicKey: toHex(state.dhs.publicKey), secretKey: toHex(state.dhs.secretKey) },
      dhr: hexOrNull(state.dhr),
      rk: toHex(state.rk),
      cks: hexOrNull(state.cks),
      ckr: hexOrNull(state.ckr),
      ns: state.ns,
      nr: state.nr,
      pn: state.pn,
      skipped: state.skipped.map((entry) => ({ dh: entry.dh, n: entry.n, mk: toHex(entry.mk), storedAt: entry.storedAt })),
    }),
  );
}

/** VAULT_CORRUPT for bytes that are not a stored ratchet state of a known version. */
export function decodeRatchetState(bytes: Uint8Array): RatchetState {
  let parsed: z.infer<typeof Stored>;
  try {
    parsed = Stored.parse(JSON.parse(utf8.decode(bytes)));
  } catch {
    throw new ParleyError('VAULT_CORRUPT', 'A stored session cannot be read');
  }
  return {
    v: 1,
    ad: fromHex(parsed.ad),
    dhs: { publicKey: fromHex(parsed.dhs.publicKey), secretKey: fromHex(parsed.dhs.secretKey) },
    dhr: bytesOrNull(parsed.dhr),
    rk: fromHex(parsed.rk),
    cks: bytesOrNull(parsed.cks),
    ckr: bytesOrNull(parsed.ckr),
    ns: parsed.ns,
    nr: parsed.nr,
    pn: parsed.pn,
    skipped: parsed.skipped.map((entry) => ({ dh: entry.dh, n: entry.n, mk: fromHex(entry.mk), storedAt: entry.storedAt })),
  };
}
