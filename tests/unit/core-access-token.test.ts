import { describe, expect, it } from 'vitest';
import { AccessTokenHolder } from '../../app/core/net/access-token.js';

const token = (expiresAt: number) => ({ name: 'TOKEN' as const, requestId: 1, token: 'header.payload.signature', expiresAt });

describe('access token holder', () => {
  it('offers the token until 30 s before its expiry on the local clock, corrected by the relay clock skew', () => {
    const holder = new AccessTokenHolder();
    const now = 1_000_000;
    // The relay's clock runs 60 s ahead of ours; it says the token expires 15 min from its now.
    const renewIn = holder.hold(token(now + 60_000 + 900_000), 60_000, now);
    expect(renewIn).toBe(675_000);
    expect(holder.usable(now)).toBe('header.payload.signature');
    expect(holder.usable(now + 900_000 - 30_001)).toBe('header.payload.signature');
    expect(holder.usable(now + 900_000 - 30_000)).toBeUndefined();
  });

  it('forgets, and never prints the token', () => {
    const holder = new AccessTokenHolder();
    holder.hold(token(Date.now() + 900_000), 0);
    expect(JSON.stringify({ holder })).not.toContain('signature');
    expect(String(Object.values(holder))).not.toContain('signature');
    holder.forget();
    expect(holder.usable()).toBeUndefined();
  });
});
