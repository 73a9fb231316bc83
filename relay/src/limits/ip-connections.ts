import type { EventEmitter } from 'node:events';

const kAddress = Symbol('clientAddress');

/** A socket counted against its address until it closes. */
type CountedSocket = EventEmitter & { [kAddress]?: string };

function uncount(open: Map<string, number>, ip: string): void {
  const count = (open.get(ip) ?? 0) - 1;
  if (count > 0) open.set(ip, count);
  else open.delete(ip);
}

/** Open sockets per client IP, for the per-IP connection cap. */
export class IpConnections {
  private readonly open = new Map<string, number>();
  /** One 'close' listener for every socket (each names its address), so none carries a closure of its own. */
  private readonly onSocketClose: (this: CountedSocket) => void;

  constructor(private readonly cap: number) {
    const open = this.open;
    this.onSocketClose = function (this: CountedSocket): void {
      const ip = this[kAddress];
      if (ip !== undefined) uncount(open, ip);
    };
  }

  /** Count `socket` against ip until it closes; false (and nothing counted) if ip is already at the cap. */
  tryOpenSocket(socket: EventEmitter, ip: string): boolean {
    const count = this.open.get(ip) ?? 0;
    if (count >= this.cap) return false;
    this.open.set(ip, count + 1);
    (socket as CountedSocket)[kAddress] = ip;
    // on(), not once(): 'close' comes once, and once() would add a bound wrapper per socket.
    socket.on('close', this.onSocketClose);
    return true;
  }
}
