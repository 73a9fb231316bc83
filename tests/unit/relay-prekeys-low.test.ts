import { describe, expect, it } from 'vitest';
import { PREKEY_LOW_WATERMARK } from '../../relay/protocol/index.js';
import { lowStockNotice } from '../../relay/src/handlers/prekeys.js';

const enough = PREKEY_LOW_WATERMARK;
const low = PREKEY_LOW_WATERMARK - 1;

describe('the low prekey stock notice', () => {
  it.each([
    ['both stocks at the watermark', { published: true, oneTime: enough, pqOneTime: enough }, undefined],
    ['classical one-time keys below it', { published: true, oneTime: low, pqOneTime: enough }, { oneTimeCount: low, pqOneTimeCount: enough }],
    ['post-quantum one-time keys below it', { published: true, oneTime: enough, pqOneTime: low }, { oneTimeCount: enough, pqOneTimeCount: low }],
    ['both below it', { published: true, oneTime: 0, pqOneTime: 0 }, { oneTimeCount: 0, pqOneTimeCount: 0 }],
    ['a user who never published', { published: false, oneTime: 0, pqOneTime: 0 }, undefined],
  ])('with %s', (_label, counts, expected) => {
    const notice = lowStockNotice(counts);
    expect(notice).toEqual(expected === undefined ? undefined : { name: 'PREKEYS_LOW', requestId: 0, ...expected });
  });
});
