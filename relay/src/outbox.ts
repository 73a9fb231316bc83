import { WebSocket } from 'ws';
import { encodeRequestIds, type ServerFrame } from '../protocol/index.js';
import { describeError, type Log } from './log.js';
import type { RelayMetrics } from './metrics.js';
import type { OkPacer, PacedOks } from './ok-pacer.js';
import { okFrame } from './replies.js';
import { binaryFrame } from './ws-frame.js';

/** What an outbox needs of its WebSocket (a ws WebSocket): its state, and its pings, which ws still frames. */
export interface OutboxSocket {
  readonly readyState: number;
  /** What the TCP socket has not yet handed to the kernel, frames written past ws included. */
  readonly bufferedAmount: number;
  ping(data: undefined, mask: undefined, written: () => void): void;
}

/** What an outbox needs of the TCP (or TLS) socket under the WebSocket: its frames are written there whole. */
export interface Transport {
  cork(): void;
  uncork(): void;
  write(data: Uint8Array): boolean;
}

/** The connection an outbox writes for. */
export interface OutboxOwner {
  readonly id: number;
  /** Drop the socket: the client reads too slowly. */
  terminate(): void;
}

/** What every outbox shares (the connections' deps object). */
export interface OutboxDeps {
  readonly log: Log;
  readonly metrics: RelayMetrics;
  readonly options: { readonly maxBufferedBytes: number };
  readonly okPacer: OkPacer;
}

/** Shared by every outbox, so none carries a closure of its own for its end of turn. */
function endTurn(outbox: Outbox): void {
  outbox.endTurn();
}

/**
 * One connection's outgoing frames. Those of one event-loop turn leave in one write (the TCP socket is corked until
 * the turn ends), its OKs as one OKS frame; a client that lets more than maxBufferedBytes pile up is cut off.
 * OKs with no other frame in their turn wait for the OK pacer; any other frame takes them ahead of itself.
 */
export class Outbox implements PacedOks {
  /** True while this turn's frames gather in the TCP socket. */
  private corked = false;
  /** The request ids of the OKs not yet written (a commit settles many SENDs of one client at once). */
  private oks: number[] | undefined;
  /** In the OK pacer's list, not yet reached. */
  private paced = false;

  constructor(
    private readonly socket: OutboxSocket,
    private readonly transport: Transport,
    private readonly deps: OutboxDeps,
    private readonly owner: OutboxOwner,
  ) {}

  /** False if the frame could not be handed to the socket. An OK waits, with the others owed, for the turn's end or the OK pacer, to leave as one OKS. */
  send(frame: ServerFrame): boolean {
    if (this.socket.readyState !== WebSocket.OPEN) return false;
    if (frame.name === 'OK') {
      (this.oks ??= []).push(frame.requestId);
      // A turn already corked writes its OKs at its end.
      if (!this.corked && !this.paced) {
        this.paced = true;
        this.deps.okPacer.add(this);
      }
      return true;
    }
    if (!this.corked) {
      this.corked = true;
      this.transport.cork();
      process.nextTick(endTurn, this);
    }
    // The OKs before it go first: the client sees every frame in the order it was sent.
    this.flushOks();
    return this.write(frame);
  }

  /** The OKs owed so far leave now (ahead of a closing frame, say). */
  flushOks(): void {
    const requestIds = this.oks;
    if (requestIds === undefined) return;
    this.oks = undefined;
    if (this.socket.readyState !== WebSocket.OPEN) return;
    const [only] = requestIds;
    if (requestIds.length === 1 && only !== undefined) this.write(okFrame(only));
    else this.write({ name: 'OKS', requestId: 0, requestIds: encodeRequestIds(requestIds, Buffer.allocUnsafe) });
  }

  flushPacedOks(): void {
    this.paced = false;
    this.flushOks();
  }

  /** The end of a turn: what was corked leaves in one write. */
  endTurn(): void {
    this.flushOks();
    this.corked = false;
    this.transport.uncork();
  }

  /** Settles once everything sent so far has been handed to the kernel (or the socket closed). */
  flushed(): Promise<void> {
    return new Promise((resolve) => {
      if (this.socket.readyState !== WebSocket.OPEN) {
        resolve();
        return;
      }
      // An empty ping's callback runs after every earlier write has been flushed.
      this.socket.ping(undefined, undefined, () => resolve());
    });
  }

  private write(frame: ServerFrame): boolean {
    try {
      // Past ws, framed here: one buffer a frame, which ws's send() would write as a header and a payload apart.
      this.transport.write(binaryFrame(frame));
      this.deps.metrics.frameOut(frame.name);
    } catch (error) {
      this.deps.log('send_failed', { conn: this.owner.id, frame: frame.name, ...describeError(error) });
      return false;
    }
    if (this.socket.bufferedAmount > this.deps.options.maxBufferedBytes) {
      // A slow reader: what it has not read stays queued in the database and is delivered on its next connection.
      this.deps.log('slow_reader_cut_off', { conn: this.owner.id, buffered: this.socket.bufferedAmount });
      this.deps.metrics.countCut('slow_reader');
      this.owner.terminate();
    }
    return true;
  }
}
