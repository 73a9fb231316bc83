import { z } from 'zod';
import { ParleyError } from '../../shared/errors.js';

const Base64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/);

/**
 * The vault file, version 1: the master key wrapped under an Argon2id passphrase key.
 * KDF parameters and salt sit beside the wrap so that retuning them later is a migration, not a break.
 */
export const VaultFileV1 = z
  .object({
    format: z.literal('parley-vault'),
    version: z.literal(1),
    kdf: z
      .object({
        alg: z.literal('argon2id13'),
        opslimit: z.number().int().positive(),
        memlimit: z.number().int().positive(),
        salt: Base64,
      })
      .strict(),
    wrap: z
      .object({
        alg: z.literal('xchacha20poly1305-ietf'),
        nonce: Base64,
        ciphertext: Base64,
      })
      .strict(),
  })
  .strict();
export type VaultFile = z.infer<typeof VaultFileV1>;

const Sealed = z.object({ alg: z.literal('xchacha20poly1305-ietf'), nonce: Base64, ciphertext: Base64 }).strict();
const Argon2idKdf = z
  .object({ alg: z.literal('argon2id13'), opslimit: z.number().int().positive(), memlimit: z.number().int().positive(), salt: Base64 })
  .strict();

/**
 * The vault file, version 2: one master key, several wraps of it. The passphrase wrap is always there;
 * the recovery-key wrap is there for every profile created since version 2; the keychain wrap only when the
 * user opted in to unlocking automatically on this computer (its key-encryption key is sealed by the OS).
 */
export const VaultFileV2 = z
  .object({
    format: z.literal('parley-vault'),
    version: z.literal(2),
    passphrase: z.object({ kdf: Argon2idKdf, wrap: Sealed }).strict(),
    recovery: z.object({ kdf: z.object({ alg: z.literal('blake2b-keyed'), salt: Base64 }).strict(), wrap: Sealed }).strict().optional(),
    keychain: z.object({ kdf: z.object({ alg: z.literal('os-keychain'), sealedKey: Base64 }).strict(), wrap: Sealed }).strict().optional(),
  })
  .strict();
export type VaultFileV2 = z.infer<typeof VaultFileV2>;
export type AnyVaultFile = VaultFile | VaultFileV2;

export function serializeVault(vault: AnyVaultFile): string {
  return `${JSON.stringify(vault, null, 2)}\n`;
}

/** Parse vault file bytes; VAULT_CORRUPT for anything that is not a vault this version understands. */
export function parseVault(bytes: Uint8Array): AnyVaultFile {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    throw new ParleyError('VAULT_CORRUPT', 'The vault file is not a Parley vault');
  }
  const parsed = z.union([VaultFileV1, VaultFileV2]).safeParse(json);
  if (!parsed.success) throw new ParleyError('VAULT_CORRUPT', 'The vault file is not a Parley vault');
  return parsed.data;
}
