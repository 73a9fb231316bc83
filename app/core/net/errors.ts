import { ParleyError, type ErrorCode } from '../../shared/errors.js';
import { isWireErrorCode, type WireErrorCode } from '../../../relay/protocol/index.js';

/** The relay answered a request with an ERROR frame. */
export class RelayReplyError extends Error {
  constructor(
    readonly code: WireErrorCode | 'UNKNOWN',
    message: string,
    readonly retryAfterMs: number,
  ) {
    super(message);
    this.name = 'RelayReplyError';
  }

  static fromFrame(frame: { code: string; message: string; retryAfterMs: number }): RelayReplyError {
    return new RelayReplyError(isWireErrorCode(frame.code) ? frame.code : 'UNKNOWN', frame.message.slice(0, 200), frame.retryAfterMs);
  }
}

export const unreachable = (message = 'The relay cannot be reached'): ParleyError => new ParleyError('RELAY_UNREACHABLE', message);

/** Wire refusals that mean the same whatever was asked. */
const ANY_REQUEST: Partial<Record<WireErrorCode, ErrorCode>> = {
  STORAGE_FULL: 'RELAY_STORAGE_FULL',
};

/** Map anything a relay exchange threw to a ParleyError; `known` maps the wire codes the caller expects. */
export function relayFailure(error: unknown, known: Partial<Record<WireErrorCode, ErrorCode>> = {}): ParleyError {
  if (error instanceof ParleyError) return error;
  if (error instanceof RelayReplyError) {
    const mapped = error.code === 'UNKNOWN' ? undefined : (known[error.code] ?? ANY_REQUEST[error.code]);
    if (mapped !== undefined) return new ParleyError(mapped, error.message);
    return new ParleyError('RELAY_PROTOCOL_ERROR', `The relay refused the request (${error.code})`);
  }
  return new ParleyError('RELAY_PROTOCOL_ERROR', 'The relay exchange failed');
}
