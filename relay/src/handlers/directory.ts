import type { FrameOf } from '../../protocol/index.js';
import { errorFrame } from '../replies.js';
import type { UserStore } from '../store/ports.js';

/** A user's published public keys, or USER_NOT_FOUND. */
export function handleLookup(frame: FrameOf<'LOOKUP'>, users: UserStore): FrameOf<'USER'> | FrameOf<'ERROR'> {
  const user = users.find(frame.username);
  if (user === undefined) return errorFrame(frame.requestId, 'USER_NOT_FOUND', 'no such user');
  return {
    name: 'USER',
    requestId: frame.requestId,
    username: user.username,
    identityKey: user.identityKey,
    agreementKey: user.agreementKey,
    agreementSig: user.agreementSig,
  };
}
