import { decodeOneTimePrekeys, type FrameOf } from '../../../relay/protocol/index.js';
import { ParleyError } from '../../shared/errors.js';
import type { PrekeyBundle } from '../crypto/pqxdh.js';

/** The relay's PREKEY_BUNDLE as the handshake's input; PREKEY_BUNDLE_INVALID when its one-time key list is malformed. */
export function prekeyBundleFromFrame(frame: FrameOf<'PREKEY_BUNDLE'>): PrekeyBundle {
  const oneTime = decodeOneTimePrekeys(frame.oneTimePrekey);
  if (oneTime === undefined || oneTime.length > 1) throw new ParleyError('PREKEY_BUNDLE_INVALID', 'The prekey bundle is malformed');
  const first = oneTime[0];
  return {
    identityKey: frame.identityKey,
    agreementKey: frame.agreementKey,
    agreementSig: frame.agreementSig,
    signedPrekey: { id: frame.signedPrekeyId, publicKey: frame.signedPrekey, signature: frame.signedPrekeySig },
    pqPrekey: { id: frame.pqPrekeyId, publicKey: frame.pqPrekey, signature: frame.pqPrekeySig, lastResort: frame.pqLastResort === 1 },
    oneTimePrekey: first === undefined ? null : { id: first.keyId, publicKey: first.publicKey },
  };
}
