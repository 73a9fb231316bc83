import type { PrekeyStore } from './prekeys.js';
import type { BlobStore } from './blobs.js';

/** A registered user: public keys only, the relay never holds a private key. */
export interface UserRecord {
  readonly username: string;
  readonly identityKey: Uint8Array;
  readonly agreementKey: Uint8Array;
  readonly agreementSig: Uint8Array;
  readonly registeredAt: number;
}

/** A user as the operator sees them. */
export interface UserSummary {
  readonly username: string;
  readonly registeredAt: number;
  /** When the operator banned them, or null. */
  readonly bannedAt: number | null;
  readonly queued: number;
}

export interface UserStore {
  find(username: string): UserRecord | undefined;
  /** Insert a user whose username is free (the caller checked with find and takenBySkeleton). */
  create(user: UserRecord, skeleton: string): void;
  /** The registered username that looks like this skeleton, if any. */
  takenBySkeleton(skeleton: string): string | undefined;
  /** When the user was banned, or undefined if they are not (or do not exist). */
  bannedAt(username: string): number | undefined;
  /** Whether the username is registered (cheaper than find: no keys read). */
  exists(username: string): boolean;
}

/** Why an invite code cannot be used. */
export type InviteRefusal = 'unknown' | 'expired' | 'used-up' | 'revoked';

export interface InviteStore {
  /** Count one use of the code at time now, or say why it cannot be used (nothing counted then). */
  redeem(code: string, now: number): InviteRefusal | undefined;
}

/** An envelope waiting for its recipient. The sender is not stored: it is known only inside the ciphertext. */
export interface QueuedEnvelope {
  /** Arrival order within the relay; later envelopes have larger values. */
  readonly seq: number;
  readonly messageId: Uint8Array;
  readonly envelope: Uint8Array;
  readonly receivedAt: number;
  /** When the relay drops it unread (a disappearing message), or null: only the queue's age cap applies. */
  readonly expiresAt: number | null;
  /** The sender's receipt box if they asked for a delivery receipt, else null. */
  readonly receiptBox: Uint8Array | null;
}

/** What an ack removed from the queue. */
export interface AckedEnvelope {
  readonly receivedAt: number;
  readonly receiptBox: Uint8Array | null;
}

/** A receipt waiting for its sender: the recipient acked messageId at ackedAt. */
export interface PendingReceipt {
  readonly seq: number;
  readonly messageId: Uint8Array;
  readonly ackedAt: number;
}

export interface ReceiptStore {
  /** Up to limit receipts for this box with seq > afterSeq, oldest first. */
  page(box: Uint8Array, afterSeq: number, limit: number): PendingReceipt[];
  /** The sender has the receipt; false if it was not waiting. */
  remove(box: Uint8Array, messageId: Uint8Array): boolean;
}

export type NewEnvelope = Omit<QueuedEnvelope, 'seq'>;

/** queued: stored now; duplicate: this (recipient, messageId) is already waiting; full: the recipient's queue is at its limit. */
export type EnqueueResult = 'queued' | 'duplicate' | 'full';

/** Caps on one recipient's queue. */
export interface QueueCaps {
  readonly count: number;
  readonly bytes: number;
}

export interface QueueStore {
  /** Store durably before returning; a duplicate is reported before the limit is checked. */
  enqueue(recipient: string, envelope: NewEnvelope, caps: QueueCaps): EnqueueResult;
  /**
   * What enqueue would answer, without storing anything: 'queued' means it may be stored. `pending` is what the
   * recipient has accepted but not yet stored (held envelopes), counted against the caps as if it were queued.
   */
  admit(recipient: string, messageId: Uint8Array, bytes: number, caps: QueueCaps, pending: QueueCaps): EnqueueResult;
  /** Write the delivered ids remembered since the last call (ids are written in batches; the relay calls this every 100 ms and at shutdown). */
  flushDelivered(): void;
  /** Forget the delivered ids acked before `before` (a retry of one is then delivered again; clients drop it by id). */
  forgetDeliveredBefore(before: number): void;
  /** An envelope acked before it was ever stored: remember its id as delivered and file a receipt if one was asked for. */
  delivered(recipient: string, messageId: Uint8Array, ackedAt: number, receiptBox: Uint8Array | null): void;
  /** Up to `limit` unexpired envelopes (at time now) for the recipient with seq > afterSeq, in arrival order. */
  page(recipient: string, afterSeq: number, limit: number, now: number): QueuedEnvelope[];
  /**
   * Remove one envelope, remember its id as delivered (so a retry is dropped), and file a receipt if one was asked for;
   * undefined if it was not queued (already acked, or never there).
   */
  ack(recipient: string, messageId: Uint8Array, now: number): AckedEnvelope | undefined;
  depth(recipient: string): number;
  /** Envelopes waiting for everyone. */
  totalDepth(): number;
  /** Delete envelopes that arrived before receivedBefore or whose own expiry is at or before now; how many went. Older receipts go too. */
  purge(receivedBefore: number, now: number): number;
}

export interface RelayStore {
  readonly users: UserStore;
  readonly queue: QueueStore;
  readonly prekeys: PrekeyStore;
  readonly invites: InviteStore;
  readonly receipts: ReceiptStore;
  readonly locks: LockStore;
  readonly blobs: BlobStore;
  /**
   * Run work in one write transaction (nested calls become savepoints); the group commit batches writes through it.
   * The commit is visible at once, but durable only once syncCommitted has run after it. Returns whether it changed
   * any row: one that changed none has nothing to make durable.
   */
  transaction(work: () => void): boolean;
  /** Whether the transaction a unit of work ran in is still open: SQLite ends it whole on some failures (a full disk). */
  inTransaction(): boolean;
  /** Run work so that all its writes land or none do (a savepoint inside the group commit's transaction); returns its result. */
  atomically<T>(work: () => T): T;
  /** Make every transaction committed so far durable, off the event loop; calls back when done. */
  syncCommitted(done: (error: Error | undefined) => void): void;
  /** The database's pages, those in its write-ahead log included: what maxDatabaseBytes caps. */
  databaseBytes(): number;
  close(): void;
}

/** A user's registration lock: a TOTP secret (base32), pending until one code has been verified. */
export interface RegistrationLock {
  readonly pending: string | null;
  readonly secret: string | null;
  readonly lastStep: number;
}

export interface LockStore {
  get(username: string): RegistrationLock | undefined;
  setPending(username: string, secret: string): void;
  /** Make the pending secret the lock's secret. */
  enable(username: string, now: number, step: number): void;
  disable(username: string): void;
  /** Record the step of an accepted code (so it cannot be used twice). */
  used(username: string, step: number): void;
  /** Bind the username to new keys (a re-registration allowed by the lock); the queue is kept. */
  rebind(user: UserRecord): void;
}
