import { createHmac, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FrameOf } from '../protocol/index.js';

export const RECEIPT_KEY_FILE = 'receipt-key';
const BOX_BYTES = 16;

/**
 * Receipt boxes. A sender who asks for a receipt is recorded with its queued envelope, until the ack, not by name but
 * as HMAC(relay's receipt key, username): a copy of the database alone does not say who sent what.
 */
export class ReceiptBoxes {
  private readonly online = new Map<string, ReceiptPeer>();

  constructor(private readonly key: Uint8Array) {}

  static load(dataDir: string): ReceiptBoxes {
    const path = join(dataDir, RECEIPT_KEY_FILE);
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    try {
      return new ReceiptBoxes(readFileSync(path));
    } catch {
      const key = randomBytes(32);
      writeFileSync(path, key, { mode: 0o600, flag: 'wx' });
      return new ReceiptBoxes(key);
    }
  }

  boxFor(username: string): Uint8Array {
    return createHmac('sha256', this.key).update(username, 'utf8').digest().subarray(0, BOX_BYTES);
  }

  attach(box: Uint8Array, peer: ReceiptPeer): void {
    this.online.set(Buffer.from(box).toString('hex'), peer);
  }

  detach(box: Uint8Array, peer: ReceiptPeer): void {
    const hex = Buffer.from(box).toString('hex');
    if (this.online.get(hex) === peer) this.online.delete(hex);
  }

  get(box: Uint8Array): ReceiptPeer | undefined {
    return this.online.get(Buffer.from(box).toString('hex'));
  }
}

export interface ReceiptPeer {
  deliverReceipt(frame: FrameOf<'RECEIPT'>): void;
}
