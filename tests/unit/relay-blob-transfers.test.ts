import { describe, expect, it } from 'vitest';
import { BlobTransfers } from '../../relay/src/limits/blob-transfers.js';

describe('blob transfers in progress', () => {
  it('caps each user and all together, and frees a slot once however often it is released', () => {
    const transfers = new BlobTransfers(3, 2);
    const first = transfers.take('alice');
    const second = transfers.take('alice');
    expect(transfers.take('alice')).toBe('user');
    const bobs = transfers.take('bob');
    expect(transfers.take('carol')).toBe('relay');
    expect(transfers.inProgress).toBe(3);

    if (typeof first === 'string' || typeof second === 'string' || typeof bobs === 'string') throw new Error('expected slots');
    first.release();
    first.release();
    expect(transfers.inProgress).toBe(2);
    // Alice's freed slot is hers or anyone's; the second release freed nothing more.
    expect(typeof transfers.take('carol')).toBe('object');
    expect(transfers.take('alice')).toBe('relay');
    second.release();
    bobs.release();
    expect(transfers.inProgress).toBe(1);
  });
});
