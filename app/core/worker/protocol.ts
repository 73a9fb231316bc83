import { MessagePort } from 'node:worker_threads';
import { z } from 'zod';
import { ERROR_CODES } from '../../shared/errors.js';
import { EVENT_NAMES } from '../../shared/names.js';

/**
 * The messages between a host and the core running in a worker thread. The worker is our own code,
 * but every message is still parsed so a mismatch fails loudly with a code instead of misbehaving.
 */

const Id = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
const Timeout = z.number().int().nonnegative().optional();
// Typed arrays are checked by class; the generic form keeps them assignable to Uint8Array/Int32Array.
const Bytes = z.custom<Uint8Array>((value) => value instanceof Uint8Array, 'expected bytes');
const Flag = z.custom<Int32Array>((value) => value instanceof Int32Array, 'expected a shared flag');
const ErrorShape = z.object({ code: z.enum(ERROR_CODES), message: z.string() }).strict();

export const WireResult = z.union([
  z.object({ ok: z.literal(true), value: z.unknown() }).strict(),
  z.object({ ok: z.literal(false), error: ErrorShape }).strict(),
]);
export type WireResult = z.infer<typeof WireResult>;

const BackupExportRequest = z.object({ passphrase: z.string(), backupPassphrase: z.string() }).strict();
const BackupSecret = z.union([z.object({ passphrase: z.string() }).strict(), z.object({ key: Bytes }).strict()]);

/** What the host asks of the core: the ParleyApi call plus the Core-only calls. */
export const CoreCall = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('invoke'), method: z.string().max(64), input: z.unknown() }).strict(),
  z.object({ kind: z.literal('whenOnline'), timeoutMs: Timeout }).strict(),
  z.object({ kind: z.literal('whenSynced'), timeoutMs: Timeout }).strict(),
  z.object({ kind: z.literal('lock'), reason: z.enum(['user', 'idle', 'system']) }).strict(),
  z.object({ kind: z.literal('exportBackup'), file: z.string(), secret: BackupSecret }).strict(),
  z.object({ kind: z.literal('checkBackupExport'), request: BackupExportRequest }).strict(),
  z.object({ kind: z.literal('exportBackupTo'), file: z.string(), request: BackupExportRequest }).strict(),
  z.object({ kind: z.literal('restoreBackupFrom'), file: z.string(), backupPassphrase: z.string() }).strict(),
  z.object({ kind: z.literal('close') }).strict(),
]);
export type CoreCall = z.infer<typeof CoreCall>;

/** host -> worker */
export const HostRequest = z.object({ id: Id, call: CoreCall }).strict();
export type HostRequest = z.infer<typeof HostRequest>;

/** worker -> host: the core opened (or could not), a reply to one request, or a contract event. */
export const WorkerMessage = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('opened') }).strict(),
  z.object({ kind: z.literal('openFailed'), error: ErrorShape }).strict(),
  z.object({ kind: z.literal('reply'), id: Id, result: WireResult }).strict(),
  z.object({ kind: z.literal('event'), event: z.enum(EVENT_NAMES), payload: z.unknown() }).strict(),
]);
export type WorkerMessage = z.infer<typeof WorkerMessage>;

/** The worker's start-up data: CoreOptions minus the functions, plus the keychain's own channel. */
export const WorkerStart = z
  .object({
    profileDir: z.string(),
    defaultRelayUrl: z.string().optional(),
    idleLock: z.boolean().optional(),
    backupDir: z.string().optional(),
    keychain: z.object({ port: z.instanceof(MessagePort), signal: Flag }).strict().optional(),
  })
  .strict();
export type WorkerStart = z.infer<typeof WorkerStart>;

/** worker -> host over the keychain channel; the worker blocks until the answer arrives. */
export const KeychainRequest = z.discriminatedUnion('op', [
  z.object({ op: z.literal('availability') }).strict(),
  z.object({ op: z.literal('seal'), bytes: Bytes }).strict(),
  z.object({ op: z.literal('open'), bytes: Bytes }).strict(),
]);
export type KeychainRequest = z.infer<typeof KeychainRequest>;

export const KeychainAvailability = z.union([
  z.object({ available: z.literal(true) }).strict(),
  z.object({ available: z.literal(false), reason: z.string() }).strict(),
]);

export const KeychainReply = z.object({ result: WireResult }).strict();
export type KeychainReply = z.infer<typeof KeychainReply>;
