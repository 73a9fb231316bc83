import type { FrameOf } from '../protocol/index.js';

/** What the router needs from a live, authenticated connection. */
export interface Peer {
  /** Push an envelope; false if it was not sent (the connection is receiving its stored queue, or closing). */
  deliver(frame: FrameOf<'DELIVER'>): boolean;
  /** Tell the user their prekey stock is low. */
  notify(frame: FrameOf<'PREKEYS_LOW'>): void;
  /** A newer connection of the same user took over: this one must go. */
  replace(): void;
}

/** Who is online right now: at most one live connection per user. */
export class Router {
  private readonly online = new Map<string, Peer>();

  /** Make peer the user's live connection; the connection it replaces, if any, is told to go. */
  attach(username: string, peer: Peer): void {
    const previous = this.online.get(username);
    this.online.set(username, peer);
    if (previous !== undefined && previous !== peer) previous.replace();
  }

  /** Forget peer, unless a newer connection has already taken its place. */
  detach(username: string, peer: Peer): void {
    if (this.online.get(username) === peer) this.online.delete(username);
  }

  get(username: string): Peer | undefined {
    return this.online.get(username);
  }
}
