import { describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { decodeFrame, decodeRequestIds, type Frame, type ServerFrame } from '../../relay/protocol/index.js';
import { createMetrics } from '../../relay/src/metrics.js';
import { OVERDUE_MS as OK_PACER_OVERDUE_MS, OkPacer } from '../../relay/src/ok-pacer.js';
import { Outbox, type OutboxSocket } from '../../relay/src/outbox.js';
import { okFrame } from '../../relay/src/replies.js';
import { clientReceiver } from '../support/ws-receiver.js';

/** A socket that records the frames written to the TCP socket under it (read by ws, as a client reads them), and when it is corked. */
class RecordingSocket implements OutboxSocket {
  readyState: number = WebSocket.OPEN;
  bufferedAmount = 0;
  readonly events: string[] = [];
  readonly frames: Frame[] = [];
  private readonly receiver = clientReceiver().on('message', (data) => {
    const frame = decodeFrame(new Uint8Array(data));
    this.frames.push(frame);
    this.events.push(frame.name);
  });

  ping(_data: undefined, _mask: undefined, written: () => void): void {
    this.events.push('ping');
    written();
  }

  readonly transport = {
    cork: (): number => this.events.push('cork'),
    uncork: (): number => this.events.push('uncork'),
    write: (data: Uint8Array): boolean => this.receiver.write(data),
  };
}

function outboxFor(socket: RecordingSocket, maxBufferedBytes = 1 << 20, okPacer = new OkPacer()): { outbox: Outbox; terminated: () => number; logged: string[] } {
  let terminations = 0;
  const logged: string[] = [];
  const deps = { log: (event: string) => void logged.push(event), metrics: createMetrics({ queueDepth: () => 0 }), options: { maxBufferedBytes }, okPacer };
  const outbox = new Outbox(socket, socket.transport, deps, { id: 7, terminate: () => void terminations++ });
  return { outbox, terminated: () => terminations, logged };
}

const endOfTurn = (): Promise<void> => new Promise((resolve) => process.nextTick(resolve));
/** After the OK pacer's next slice (scheduled before this, so run first). */
const nextSlice = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
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
    outbox.send(drained);
    for (const requestId of [11, 12, 13]) outbox.send(okFrame(requestId));
    expect(socket.frames).toEqual([drained]);
    await endOfTurn();
    const [, oks] = socket.frames;
    expect(oks?.name).toBe('OKS');
    expect(oks?.name === 'OKS' ? decodeRequestIds(oks.requestIds) : undefined).toEqual([11, 12, 13]);
    expect(socket.events.at(-1)).toBe('uncork');
  });

  it('leaves OKs with no other frame in their turn to the OK pacer, which writes those of later turns with them', async () => {
    const socket = new RecordingSocket();
    const { outbox } = outboxFor(socket);
    outbox.send(okFrame(11));
    await endOfTurn();
    expect(socket.frames).toEqual([]);
    outbox.send(okFrame(12));
    await nextSlice();
    const [oks, ...rest] = socket.frames;
    expect([oks?.name === 'OKS' ? decodeRequestIds(oks.requestIds) : oks, rest]).toEqual([[11, 12], []]);
    // Written straight to the socket: nothing else is in its turn.
    expect(socket.events).not.toContain('cork');
  });

  it('sends a lone OK as an OK', async () => {
    const socket = new RecordingSocket();
    const { outbox } = outboxFor(socket);
    outbox.send(okFrame(5));
    await nextSlice();
    expect(socket.frames).toEqual([{ name: 'OK', requestId: 5 }]);
  });

  it("writes a slice of outboxes' OKs per event-loop turn, each once", async () => {
    const pacer = new OkPacer(16);
    const sockets = Array.from({ length: 40 }, () => new RecordingSocket());
    const outboxes = sockets.map((socket) => outboxFor(socket, 1 << 20, pacer).outbox);
    outboxes.forEach((outbox, i) => outbox.send(okFrame(i)));
    const written = (): number => sockets.filter((socket) => socket.frames.length > 0).length;
    const counts: number[] = [];
    for (let slice = 0; slice < 4; slice++) {
      await nextSlice();
      counts.push(written());
    }
    expect(counts).toEqual([16, 32, 40, 40]);
    expect(sockets.map((socket) => socket.frames)).toEqual(sockets.map((_, i) => [{ name: 'OK', requestId: i }]));
    // The pacer starts again for the next OKs.
    outboxes[0]?.send(okFrame(99));
    await nextSlice();
    expect(sockets[0]?.frames.at(-1)).toEqual({ name: 'OK', requestId: 99 });
  });

  it('writes a slice from the read path when its turn is late (a flood keeps the loop polling), and each outbox still once', async () => {
    const pacer = new OkPacer(16);
    const sockets = Array.from({ length: 40 }, () => new RecordingSocket());
    const outboxes = sockets.map((socket) => outboxFor(socket, 1 << 20, pacer).outbox);
    const addedAt = performance.now();
    outboxes.forEach((outbox, i) => outbox.send(okFrame(i)));
    const written = (): number => sockets.filter((socket) => socket.frames.length > 0).length;
    // Not late yet: the immediate is on its way.
    pacer.runOverdue(addedAt);
    expect(written()).toBe(0);
    pacer.runOverdue(addedAt + OK_PACER_OVERDUE_MS + 1);
    expect(written()).toBe(16);
    // The next overdue slice is measured from that one.
    pacer.runOverdue(addedAt + OK_PACER_OVERDUE_MS + 1.5);
    expect(written()).toBe(16);
    pacer.runOverdue(addedAt + 2 * OK_PACER_OVERDUE_MS + 2);
    expect(written()).toBe(32);
    // The immediates then write the rest, and nothing twice.
    await nextSlice();
    await nextSlice();
    expect(sockets.map((socket) => socket.frames)).toEqual(sockets.map((_, i) => [{ name: 'OK', requestId: i }]));
    // And the pacer starts again for the next OKs.
    outboxes[3]?.send(okFrame(99));
    await nextSlice();
    expect(sockets[3]?.frames.at(-1)).toEqual({ name: 'OK', requestId: 99 });
  });

  it('writes nothing more for a waiting outbox whose OKs a later frame already took', async () => {
    const socket = new RecordingSocket();
    const { outbox } = outboxFor(socket);
    outbox.send(okFrame(1));
    outbox.send(drained);
    await endOfTurn();
    await nextSlice();
    expect(socket.events).toEqual(['cork', 'OK', 'DRAINED', 'uncork']);
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
    await nextSlice();
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
