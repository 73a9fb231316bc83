import type { IncomingMessage } from 'node:http';
import proxyAddr from 'proxy-addr';

/** Finds the address a request came from: the socket's, or behind a trusted proxy, the one it forwarded for. */
export type ClientAddress = (request: IncomingMessage) => string;

/**
 * trusted: the proxies (addresses, CIDR ranges, or loopback / linklocal / uniquelocal) whose X-Forwarded-For is
 * believed. The address taken is the nearest one in the header that is not itself a trusted proxy, so a client
 * cannot pick its own address by sending the header: only what a trusted proxy appended counts.
 * Throws a RangeError naming the bad entry.
 */
export function clientAddress(trusted: readonly string[]): ClientAddress {
  if (trusted.length === 0) return (request) => request.socket.remoteAddress ?? 'unknown';
  let trust: ReturnType<typeof proxyAddr.compile>;
  try {
    trust = proxyAddr.compile([...trusted]);
  } catch (error) {
    throw new RangeError(`trustedProxies: ${error instanceof Error ? error.message : String(error)}`);
  }
  return (request) => {
    // A socket already closed has no address; proxy-addr needs one to start from.
    if (request.socket.remoteAddress === undefined) return 'unknown';
    return proxyAddr(request, trust);
  };
}
