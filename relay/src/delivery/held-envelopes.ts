import type { EnvelopeKey } from '../store/envelope-key.js';
import type { NewEnvelope } from '../store/ports.js';
import type { Usage } from '../store/queue-usage.js';

/**
 * An envelope pushed to its online recipient before it was stored. It is written to the queue at the next commit
 * unless the recipient acks it first; either way the sender's OK goes out only then, so an OK still means "stored
 * durably or already in the recipient's hands".
 */
export interface HeldEnvelope {
  readonly key: EnvelopeKey;
  readonly recipient: string;
  readonly item: NewEnvelope;
  /** Set when the recipient acked it before it was stored: it is then never stored, only remembered as delivered. */
  ackedAt: number | undefined;
  /** OKs owed to the sender (and to retries of the same SEND), sent once the envelope is stored or acked. */
  readonly owed: Array<() => void>;
}

/** The envelopes held in memory between their push and their commit (a few milliseconds each), with their queue usage. */
export class HeldEnvelopes {
  private readonly held = new Map<EnvelopeKey, HeldEnvelope>();
  private readonly usage = new Map<string, Usage>();

  hold(key: EnvelopeKey, recipient: string, item: NewEnvelope, owed: () => void): HeldEnvelope {
    const envelope: HeldEnvelope = { key, recipient, item, ackedAt: undefined, owed: [owed] };
    this.held.set(key, envelope);
    const usage = this.usage.get(recipient);
    if (usage === undefined) this.usage.set(recipient, { count: 1, bytes: item.envelope.length });
    else {
      usage.count += 1;
      usage.bytes += item.envelope.length;
    }
    return envelope;
  }

  find(key: EnvelopeKey): HeldEnvelope | undefined {
    return this.held.get(key);
  }

  /** What the recipient's held envelopes would add to its stored queue. */
  pending(recipient: string): Readonly<Usage> {
    return this.usage.get(recipient) ?? NONE;
  }

  /** Stop holding it (stored, or remembered as delivered): it no longer counts as pending. */
  release(envelope: HeldEnvelope): void {
    if (this.held.get(envelope.key) !== envelope) return;
    this.held.delete(envelope.key);
    const usage = this.usage.get(envelope.recipient);
    if (usage === undefined) return;
    usage.count -= 1;
    usage.bytes -= envelope.item.envelope.length;
    if (usage.count === 0) this.usage.delete(envelope.recipient);
  }

  /** Send every OK owed for this envelope (once). */
  static settle(envelope: HeldEnvelope): void {
    for (const owed of envelope.owed.splice(0)) owed();
  }

  get size(): number {
    return this.held.size;
  }
}

const NONE: Usage = Object.freeze({ count: 0, bytes: 0 });
