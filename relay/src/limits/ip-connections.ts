/** Open sockets per client IP, for the per-IP connection cap. */
export class IpConnections {
  private readonly open = new Map<string, number>();

  constructor(private readonly cap: number) {}

  /** Count a new socket from ip; false (and nothing counted) if ip is already at the cap. */
  tryOpen(ip: string): boolean {
    const count = this.open.get(ip) ?? 0;
    if (count >= this.cap) return false;
    this.open.set(ip, count + 1);
    return true;
  }

  /** A socket counted by tryOpen has closed. */
  closed(ip: string): void {
    const count = (this.open.get(ip) ?? 0) - 1;
    if (count > 0) this.open.set(ip, count);
    else this.open.delete(ip);
  }

  count(ip: string): number {
    return this.open.get(ip) ?? 0;
  }
}
