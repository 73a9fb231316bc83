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
  const trust = compile('trustedProxies', trusted);
  return (request) => {
    // A socket already closed has no address; proxy-addr needs one to start from.
    if (request.socket.remoteAddress === undefined) return 'unknown';
    return proxyAddr(request, trust);
  };
}

/** Whether an address is in a list of addresses, CIDR ranges and the names loopback / linklocal / uniquelocal. */
export type AddressFilter = (address: string) => boolean;

/** Throws a RangeError naming the option (`name`) and the bad entry. */
export function addressFilter(name: string, allowed: readonly string[]): AddressFilter {
  const matches = compile(name, allowed);
  return (address) => address !== 'unknown' && matches(address, 0);
}

/** proxy-addr's matcher for a list, or a RangeError naming the option and the bad entry. */
function compile(name: string, list: readonly string[]): ReturnType<typeof proxyAddr.compile> {
  try {
    return proxyAddr.compile([...list]);
  } catch (error) {
    throw new RangeError(`${name}: ${error instanceof Error ? error.message : String(error)}`);
  }
}
