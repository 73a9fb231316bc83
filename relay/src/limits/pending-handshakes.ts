import type { Socket } from 'node:net';

/** Why a socket was dropped before its first request: too long in coming, or too many pending from its address. */
export type HandshakeRefusal = 'timeout' | 'cap';

interface Pending {
  readonly socket: Socket;
  readonly address: string | undefined;
  readonly timer: NodeJS.Timeout;
  readonly onClose: () => void;
}

/**
 * TCP connections that have not yet sent the headers of their first request (a WebSocket upgrade or an HTTP
 * request). Each has timeoutMs to do so, and one address may have at most maxPerAddress of them at once; past either,
 * the socket is destroyed. Node's headersTimeout never fires for a socket that sends nothing, and the per-IP cap on
 * WebSocket connections counts upgraded ones only, so without this one address could hold the relay's every
 * descriptor with silent sockets.
 */
export class PendingHandshakes {
  /**
   * By peer (address and port), not by socket: with TLS the request arrives on a TLS socket wrapped around the TCP
   * socket that was accepted, and only the peer is the same.
   */
  private readonly pending = new Map<string, Pending>();
  private readonly perAddress = new Map<string, number>();

  constructor(
    private readonly timeoutMs: number,
    private readonly maxPerAddress: number,
    /** Addresses not counted against maxPerAddress (trusted proxies: every client behind one shares its address). */
    private readonly uncounted: (address: string) => boolean,
    private readonly onRefused: (reason: HandshakeRefusal) => void,
  ) {}

  /** A TCP connection was accepted: destroyed at once if its address has too many pending, else timed. */
  accepted(socket: Socket): void {
    const { remoteAddress, remotePort } = socket;
    // Gone before it could be looked at: nothing to hold.
    if (remoteAddress === undefined || remotePort === undefined) return void socket.destroy();
    const address = this.uncounted(remoteAddress) ? undefined : remoteAddress;
    if (address !== undefined) {
      const count = this.perAddress.get(address) ?? 0;
      if (count >= this.maxPerAddress) {
        socket.destroy();
        this.onRefused('cap');
        return;
      }
      this.perAddress.set(address, count + 1);
    }
    const key = peerKey(remoteAddress, remotePort);
    const onClose = (): void => this.release(key);
    const timer = setTimeout(() => {
      this.release(key);
      socket.destroy();
      this.onRefused('timeout');
    }, this.timeoutMs);
    socket.once('close', onClose);
    this.pending.set(key, { socket, address, timer, onClose });
  }

  /** The headers of a request arrived on this socket (or the TLS socket around it); only its first one counts. */
  finished(socket: Socket): void {
    const { remoteAddress, remotePort } = socket;
    if (remoteAddress !== undefined && remotePort !== undefined) this.release(peerKey(remoteAddress, remotePort));
  }

  /** Shutting down: every socket still before its first request goes now (with TLS, one mid-handshake is not the HTTP server's to close). */
  dropAll(): void {
    for (const entry of [...this.pending.values()]) entry.socket.destroy();
  }

  /** Sockets waiting for their first request's headers. */
  get size(): number {
    return this.pending.size;
  }

  private release(key: string): void {
    const entry = this.pending.get(key);
    if (entry === undefined) return;
    this.pending.delete(key);
    clearTimeout(entry.timer);
    // An upgraded socket lives on for hours; it keeps no listener of this class's.
    entry.socket.off('close', entry.onClose);
    if (entry.address === undefined) return;
    const count = (this.perAddress.get(entry.address) ?? 0) - 1;
    if (count > 0) this.perAddress.set(entry.address, count);
    else this.perAddress.delete(entry.address);
  }
}

function peerKey(address: string, port: number): string {
  return `${address} ${port}`;
}
