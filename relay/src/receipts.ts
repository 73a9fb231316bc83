import { createHmac, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FrameOf } from '../protocol/index.js';

export const RECEIPT_KEY_FILE = 'receipt-key';
const BOX_BYTES = 16;

/** The box whose online-map key (ReceiptBoxes.attach) this is. */
export function boxOfKey(key: string): Uint8Array {
  return Buffer.from(key, 'hex');
}

/**
 * Receipt boxes. A sender who asks for a receipt is recorded with its queued envelope, until the ack, not by name but
 * as HMAC(relay's receipt key, username): a copy of the database alone does not say who sent what.
 */
export class ReceiptBoxes {
  private readonly online = new Map<string, ReceiptPeer>();

  constructor(private readonly key: Uint8Array) {}

  /** The boxes of an existing data folder, for the operator's tool: undefined if the relay never made its key. */
  static read(dataDir: string): ReceiptBoxes | undefined {
    try {
      return new ReceiptBoxes(readFileSync(join(dataDir, RECEIPT_KEY_FILE)));
    } catch {
      return undefined;
    }
  }

  /** The relay's boxes, its key made (mode 0600) on first start. */
  static load(dataDir: string): ReceiptBoxes {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    const existing = ReceiptBoxes.read(dataDir);
    if (existing !== undefined) return existing;
    const key = randomBytes(32);
    writeFileSync(join(dataDir, RECEIPT_KEY_FILE), key, { mode: 0o600, flag: 'wx' });
    return new ReceiptBoxes(key);
  }

  boxFor(username: string): Uint8Array {
    return createHmac('sha256', this.key).update(username, 'utf8').digest().subarray(0, BOX_BYTES);
  }

  /**
   * Routes the receipts for this user's box to peer. Returns the box as the online map's own key (hex), which a
   * connection keeps instead of the box's bytes: an idle connection then holds no buffer for it.
   */
  attach(username: string, peer: ReceiptPeer): string {
    const key = Buffer.from(this.boxFor(username)).toString('hex');
    this.online.set(key, peer);
    return key;
  }

  detach(key: string, peer: ReceiptPeer): void {
    if (this.online.get(key) === peer) this.online.delete(key);
  }

  get(box: Uint8Array): ReceiptPeer | undefined {
    return this.online.get(Buffer.from(box).toString('hex'));
  }
}

export interface ReceiptPeer {
  deliverReceipt(frame: FrameOf<'RECEIPT'>): void;
}
