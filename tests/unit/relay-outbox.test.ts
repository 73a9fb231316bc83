import { describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { decodeFrame, decodeRequestIds, type Frame, type ServerFrame } from '../../relay/protocol/index.js';
import { createMetrics } from '../../relay/src/metrics.js';
import { Outbox, type OutboxSocket } from '../../relay/src/outbox.js';
import { okFrame } from '../../relay/src/replies.js';

/** A socket that records what reaches it, and when the TCP socket under it is corked. */
class RecordingSocket implements OutboxSocket {
  readyState: number = WebSocket.OPEN;
  bufferedAmount = 0;
  readonly events: string[] = [];
  readonly frames: Frame[] = [];

  send(data: Uint8Array): void {
    const frame = decodeFrame(data);
    this.frames.push(frame);
    this.events.push(frame.name);
  }

  ping(_data: undefined, _mask: undefined, written: () => void): void {
    this.events.push('ping');
    written();
  }

  readonly transport = { cork: (): number => this.events.push('cork'), uncork: (): number => this.events.push('uncork') };
}

function outboxFor(socket: RecordingSocket, maxBufferedBytes = 1 << 20): { outbox: Outbox; terminated: () => number; logged: string[] } {
  let terminations = 0;
  const logged: string[] = [];
  const deps = { log: (event: string) => void logged.push(event), metrics: createMetrics(() => 0), options: { maxBufferedBytes } };
  const outbox = new Outbox(socket, socket.transport, deps, { id: 7, terminate: () => void terminations++ });
  return { outbox, terminated: () => terminations, logged };
}

const endOfTurn = (): Promise<void> => new Promise((resolve) => process.nextTick(resolve));
const drained: ServerFrame = { name: 'DRAINED', requestId: 0, count: 0 };

describe('relay outbox', () => {
  it('writes the frames of one turn between one cork and one uncork', async () => {
    const socket = new RecordingSocket();
    const { outbox } = outboxFor(socket);
    outbox.send(drained);
    outbox.send({ name: 'DRAINED', requestId: 0, count: 1 });
    expect(socket.events).toEqual(['cork', 'DRAINED', 'DRAINED']);
    await endOfTurn();
    expect(socket.events).toEqual(['cork', 'DRAINED', 'DRAINED', 'uncork']);
    outbox.send(drained);
    await endOfTurn();
    expect(socket.events.slice(4)).toEqual(['cork', 'DRAINED', 'uncork']);
  });

  it("gathers a turn's OKs into one OKS at the end of the turn, in the order they were sent", async () => {
    const socket = new RecordingSocket();
    const { outbox } = outboxFor(socket);
    for (const requestId of [11, 12, 13]) outbox.send(okFrame(requestId));
    expect(socket.frames).toEqual([]);
    await endOfTurn();
    const [oks] = socket.frames;
    expect(oks?.name).toBe('OKS');
    expect(oks?.name === 'OKS' ? decodeRequestIds(oks.requestIds) : undefined).toEqual([11, 12, 13]);
    expect(socket.events.at(-1)).toBe('uncork');
  });

  it('sends a lone OK as an OK', async () => {
    const socket = new RecordingSocket();
    const { outbox } = outboxFor(socket);
    outbox.send(okFrame(5));
    await endOfTurn();
    expect(socket.frames).toEqual([{ name: 'OK', requestId: 5 }]);
  });

  it('lets OKs owed go ahead of a later frame, so the client sees every frame in the order it was sent', () => {
    const socket = new RecordingSocket();
    const { outbox } = outboxFor(socket);
    outbox.send(okFrame(1));
    outbox.send(okFrame(2));
    outbox.send(drained);
    outbox.send(okFrame(3));
    outbox.flushOks();
    expect(socket.events).toEqual(['cork', 'OKS', 'DRAINED', 'OK']);
  });

  it('writes nothing to a socket that is no longer open, and says so', async () => {
    const socket = new RecordingSocket();
    const { outbox } = outboxFor(socket);
    outbox.send(okFrame(1));
    socket.readyState = WebSocket.CLOSING;
    expect(outbox.send(drained)).toBe(false);
    await endOfTurn();
    expect(socket.frames).toEqual([]);
    await expect(outbox.flushed()).resolves.toBeUndefined();
    expect(socket.events).not.toContain('ping');
  });

  it('cuts off a reader that lets more than maxBufferedBytes pile up, and not before', () => {
    const socket = new RecordingSocket();
    const { outbox, terminated, logged } = outboxFor(socket, 1000);
    socket.bufferedAmount = 1000;
    outbox.send(drained);
    expect(terminated()).toBe(0);
    socket.bufferedAmount = 1001;
    outbox.send(drained);
    expect(terminated()).toBe(1);
    expect(logged).toEqual(['slow_reader_cut_off']);
  });

  it('settles flushed() once the socket has taken everything sent before it', async () => {
    const socket = new RecordingSocket();
    const { outbox } = outboxFor(socket);
    outbox.send(drained);
    await outbox.flushed();
    expect(socket.events).toEqual(['cork', 'DRAINED', 'ping']);
  });
});
