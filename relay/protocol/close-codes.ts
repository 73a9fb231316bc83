/** WebSocket close codes the relay sends (RFC 6455 section 7.4, and the 4000-4999 private range). */
export const CloseCode = {
  /** The relay is shutting down. */
  GOING_AWAY: 1001,
  /** A frame that does not decode. */
  PROTOCOL_ERROR: 1002,
  /** A text frame: the protocol is binary. */
  UNSUPPORTED_DATA: 1003,
  /** Failed authentication, or none within the auth timeout. */
  POLICY_VIOLATION: 1008,
  /** An unexpected failure while the connection was still authenticating. */
  INTERNAL_ERROR: 1011,
  /** A rate limit or connection cap: retry after the ERROR's retryAfterMs (RFC 6455 "Try Again Later"). */
  TRY_AGAIN_LATER: 1013,
  /** The same user authenticated on a newer connection; clients should not reconnect automatically. */
  REPLACED: 4001,
  /** No pong to the last ping within the ping interval. */
  IDLE_TIMEOUT: 4002,
} as const;

export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode];
