import { notBefore, type GroupCommit, type Wait } from '../store/group-commit.js';
import type { NewEnvelope, QueueCaps, QueueStore } from '../store/ports.js';
import type { Usage } from '../store/queue-usage.js';
import { envelopeHasher, type EnvelopeHash, type EnvelopeHasher } from './envelope-hash.js';

/** Who sent a held envelope: told once, when it has been stored or acked, or when storing it failed. */
export interface HeldSender {
  /** Stored durably, or in its recipient's hands: the SEND's OK. */
  heldSettled(requestId: number): void;
  /** The write failed. `delivered`: the recipient had acked it anyway, so the sender may count it sent. */
  heldFailed(requestId: number, error: unknown, delivered: boolean): void;
}

/** One SEND waiting for a held envelope's OK: the first, or a retry of it. */
interface Owed {
  readonly sender: HeldSender;
  readonly requestId: number;
}

/**
 * An envelope pushed to its online recipient before it was stored. It is written to the queue at the next commit
 * unless the recipient acks it first; either way the sender's OK goes out only then, so an OK still means "stored
 * durably or already in the recipient's hands".
 */
export interface HeldEnvelope {
  readonly recipient: string;
  readonly item: NewEnvelope;
  /** Set when the recipient acked it before it was stored: it is then never stored, only remembered as delivered. */
  ackedAt: number | undefined;
  readonly sender: HeldSender;
  readonly requestId: number;
  /** Retries of the same SEND while it was held; each gets the same answer. Made only for a retry. */
  retries: Owed[] | undefined;
  /** Why its write failed, if it did. */
  failure: { readonly error: unknown } | undefined;
  /** No longer held (written, or failed). */
  released: boolean;
  /** The next envelope of its batch with the same hash. */
  sameHash: HeldEnvelope | undefined;
}

/** The envelopes whose holds end in one step of the commit grid: one write for all of them. */
interface Batch {
  /** When the group commit will take it (performance.now() time). */
  readonly dueAt: number;
  readonly envelopes: HeldEnvelope[];
  /**
   * Its envelopes by hash while they are held, each the head of a chain (sameHash). A map as short-lived as its batch,
   * dropped whole: one long-lived map with an entry set and deleted per envelope kept every envelope reachable until
   * the next scavenge, which then promoted nearly all of them to the old generation (700 KB a scavenge at 10,000
   * msg/s, doubling its pause).
   */
  readonly byHash: Map<EnvelopeHash, HeldEnvelope>;
  /** Its write has run; later envelopes need a batch of their own. */
  written: boolean;
}

/** The longest hold, in base holds (holdMs): recipients that ack later than the hold stretch it up to this. */
export const MAX_HOLD_FACTOR = 8;

/** How far each envelope written moves the mean ack time towards its own (an exponentially weighted mean). */
const ACK_TIME_WEIGHT = 1 / 64;

/** A hold shrinks only to one this much longer than twice the mean, so a mean near a step does not flip it back and forth. */
const SHRINK_MARGIN = 4 / 3;

/** A held envelope was admitted against the caps already; storing it must not refuse it. */
const UNCAPPED: QueueCaps = { count: Number.MAX_SAFE_INTEGER, bytes: Number.MAX_SAFE_INTEGER };

/**
 * The envelopes held in memory between their push and their commit (one to two holds each), with their queue
 * usage. Those held in the same step of the commit grid are written, and their OKs sent, as one unit of the group
 * commit: a busy relay holds hundreds per step, and one unit each cost a closure set and a scan of the commit's list.
 */
export class HeldEnvelopes {
  /** The batches not yet written, oldest first: two or three at a time, as a hold spans up to two grid steps. */
  private readonly holding: Batch[] = [];
  private readonly usage = new Map<string, Usage>();
  private open: Batch | undefined;
  /** How long an envelope is held now (ms), and the grid its commits are on: holdMs times a power of two, up to MAX_HOLD_FACTOR. */
  private holdFor: number;
  private hold: Wait;
  /** The mean time from arrival to the recipient's ACK of the envelopes written lately; one still unacked counts as held for the whole hold. */
  private meanAckMs: number;
  /** The last hash made, and of what: a SEND's add() after its find() reuses it (the same view; a decoded id is never written to). */
  private last: { recipient: string; messageId: Uint8Array; hash: EnvelopeHash } = { recipient: '', messageId: new Uint8Array(0), hash: 0 as EnvelopeHash };

  constructor(
    private readonly writes: GroupCommit,
    private readonly queue: QueueStore,
    private readonly holdMs: number,
    private readonly hasher: EnvelopeHasher = envelopeHasher(),
  ) {
    this.holdFor = holdMs;
    this.hold = notBefore(holdMs, holdMs);
    this.meanAckMs = 0;
  }

  private get longestHoldMs(): number {
    return MAX_HOLD_FACTOR * this.holdMs;
  }

  /** How long an envelope held now waits for its ACK (before the grid rounds it up). */
  get currentHoldMs(): number {
    return this.holdFor;
  }

  /** Hold an envelope just pushed to its recipient (none is held under its id: a retry goes to retried()); it is written, or remembered as delivered, once its hold ends. */
  add(recipient: string, item: NewEnvelope, sender: HeldSender, requestId: number): HeldEnvelope {
    const hash = this.hashOf(recipient, item.messageId);
    const batch = this.batchFor(this.writes.dueAt(this.hold));
    const envelope: HeldEnvelope = {
      recipient,
      item,
      ackedAt: undefined,
      sender,
      requestId,
      retries: undefined,
      failure: undefined,
      released: false,
      sameHash: batch.byHash.get(hash),
    };
    batch.envelopes.push(envelope);
    batch.byHash.set(hash, envelope);
    const usage = this.usage.get(recipient);
    if (usage === undefined) this.usage.set(recipient, { count: 1, bytes: item.envelope.length });
    else {
      usage.count += 1;
      usage.bytes += item.envelope.length;
    }
    return envelope;
  }

  /** The envelope held for this recipient with this message id, if any. */
  find(recipient: string, messageId: Uint8Array): HeldEnvelope | undefined {
    const hash = this.hashOf(recipient, messageId);
    for (const batch of this.holding) {
      for (let envelope = batch.byHash.get(hash); envelope !== undefined; envelope = envelope.sameHash) {
        if (envelope.recipient === recipient && sameBytes(envelope.item.messageId, messageId)) return envelope;
      }
    }
    return undefined;
  }

  /** A retry of a held envelope's SEND: it gets the same answer as the first, when the first does. */
  retried(envelope: HeldEnvelope, sender: HeldSender, requestId: number): void {
    (envelope.retries ??= []).push({ sender, requestId });
  }

  /** What the recipient's held envelopes would add to its stored queue. */
  pending(recipient: string): Readonly<Usage> {
    return this.usage.get(recipient) ?? NONE;
  }

  get size(): number {
    let size = 0;
    for (const batch of this.holding) size += batch.envelopes.length;
    return size;
  }

  private hashOf(recipient: string, messageId: Uint8Array): EnvelopeHash {
    const last = this.last;
    if (last.messageId === messageId && last.recipient === recipient) return last.hash;
    const hash = this.hasher(recipient, messageId);
    last.recipient = recipient;
    last.messageId = messageId;
    last.hash = hash;
    return hash;
  }

  private batchFor(dueAt: number): Batch {
    const open = this.open;
    if (open !== undefined && !open.written && open.dueAt === dueAt) return open;
    const batch: Batch = { dueAt, envelopes: [], byHash: new Map(), written: false };
    this.open = batch;
    this.holding.push(batch);
    this.writes.submit(
      () => this.write(batch),
      () => this.settle(batch),
      (error) => this.fail(batch, error),
      this.hold,
    );
    return batch;
  }

  /**
   * Inside the commit: each envelope is written alone (one statement), so one that fails does not undo the others.
   * Written, it is held no more, though its OK waits for the commit to be durable: an ACK from now on must find it in
   * the queue, and the queue's counts include it.
   */
  private write(batch: Batch): void {
    this.written(batch);
    let meanAckMs = this.meanAckMs;
    for (const envelope of batch.envelopes) {
      const { recipient, item } = envelope;
      // Wall-clock times: a clock set back or forward between arrival and ACK counts as no wait, or as the longest hold.
      const ackMs = envelope.ackedAt === undefined ? this.holdFor : Math.min(Math.max(envelope.ackedAt - item.receivedAt, 0), this.longestHoldMs);
      meanAckMs += (ackMs - meanAckMs) * ACK_TIME_WEIGHT;
      try {
        if (envelope.ackedAt !== undefined) this.queue.delivered(recipient, item.messageId, envelope.ackedAt, item.receiptBox);
        else this.queue.enqueue(recipient, item, UNCAPPED);
      } catch (error) {
        // SQLite ended the whole transaction (a full disk): the rest would run outside it, so the batch fails whole.
        if (!this.writes.transactionOpen()) throw error;
        envelope.failure = { error };
      }
      this.release(envelope);
    }
    this.meanAckMs = meanAckMs;
    this.stretchHold(meanAckMs);
  }

  /**
   * A hold shorter than the recipients' ACKs take stores nearly every envelope and then deletes it: under load (a
   * thousand busy clients, say) their ACKs come 50 ms and more after the push. Held for twice the mean ack time, most
   * are acked first. An envelope written unacked counts as acked at the end of its hold, so the mean, and the hold,
   * grow while fewer than half are acked in time.
   */
  private stretchHold(meanAckMs: number): void {
    const grown = this.holdOf(2 * meanAckMs);
    const shrunk = this.holdOf(2 * meanAckMs * SHRINK_MARGIN);
    const holdFor = grown > this.holdFor ? grown : Math.min(shrunk, this.holdFor);
    if (holdFor === this.holdFor) return;
    this.holdFor = holdFor;
    // The grid stretches with it: a busy relay commits less often, and each sender's OKs leave in fewer writes. Powers of
    // two, so a step changes rarely (each change starts a batch of its own) and every coarser grid point is a finer one too.
    this.hold = notBefore(holdFor, holdFor);
  }

  /** The shortest hold of at least `ms`: holdMs times a power of two, at most the longest. */
  private holdOf(ms: number): number {
    let hold = this.holdMs;
    while (hold < ms && hold < this.longestHoldMs) hold *= 2;
    return hold;
  }

  private settle(batch: Batch): void {
    for (const envelope of batch.envelopes) {
      if (envelope.failure !== undefined) {
        failed(envelope, envelope.failure.error);
        continue;
      }
      envelope.sender.heldSettled(envelope.requestId);
      if (envelope.retries !== undefined) for (const retry of envelope.retries) retry.sender.heldSettled(retry.requestId);
    }
  }

  /** The commit itself failed: nothing in the batch is stored. */
  private fail(batch: Batch, error: unknown): void {
    this.written(batch);
    for (const envelope of batch.envelopes) {
      this.release(envelope);
      failed(envelope, error);
    }
  }

  /** Its envelopes are being written (or failed): find() no longer finds them. */
  private written(batch: Batch): void {
    batch.written = true;
    const at = this.holding.indexOf(batch);
    if (at >= 0) this.holding.splice(at, 1);
  }

  /** Stop holding it (written, or failed): it no longer counts as pending. */
  private release(envelope: HeldEnvelope): void {
    if (envelope.released) return;
    envelope.released = true;
    const usage = this.usage.get(envelope.recipient);
    if (usage === undefined) return;
    usage.count -= 1;
    usage.bytes -= envelope.item.envelope.length;
    if (usage.count === 0) this.usage.delete(envelope.recipient);
  }
}

function failed(envelope: HeldEnvelope, error: unknown): void {
  const delivered = envelope.ackedAt !== undefined;
  envelope.sender.heldFailed(envelope.requestId, error, delivered);
  if (envelope.retries !== undefined) for (const retry of envelope.retries) retry.sender.heldFailed(retry.requestId, error, delivered);
}

const NONE: Usage = Object.freeze({ count: 0, bytes: 0 });

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
