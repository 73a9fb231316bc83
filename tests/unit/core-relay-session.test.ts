import { WebSocketServer, type WebSocket } from 'ws';
import { afterEach, describe, expect, it } from 'vitest';
import { RelaySession } from '../../app/core/net/relay-session.js';
import { decodeFrame, decodeMessageIds, encodeFrame, encodeRequestIds, type Frame } from '../../relay/protocol/index.js';

const servers: WebSocketServer[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await new Promise((resolve) => server.close(resolve));
});

/** A fake relay that sends a CHALLENGE and then `next` (frame bytes) to whoever connects. */
async function fakeRelay(next: Uint8Array): Promise<string> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  servers.push(server);
  server.on('connection', (socket) => {
    socket.on('error', () => undefined);
    socket.send(encodeFrame({ name: 'CHALLENGE', requestId: 0, nonce: new Uint8Array(32), serverTime: Date.now() }));
    socket.send(next);
  });
  await new Promise((resolve) => server.once('listening', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return `ws://127.0.0.1:${address.port}`;
}

/** A fake relay that sends a CHALLENGE, records every frame its client sends and how it closed, and answers with `reply`. */
async function recordingRelay(
  reply: (frames: readonly Frame[]) => Uint8Array | undefined = () => undefined,
): Promise<{ url: string; frames: Frame[]; nextFrame: () => Promise<Frame>; closed: Promise<number> }> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  servers.push(server);
  const frames: Frame[] = [];
  let arrived: (() => void) | undefined;
  let taken = 0;
  let socketClosed: (code: number) => void = () => undefined;
  const closed = new Promise<number>((resolve) => (socketClosed = resolve));
  server.on('connection', (socket: WebSocket) => {
    socket.on('error', () => undefined);
    socket.on('message', (data: Buffer) => {
      frames.push(decodeFrame(new Uint8Array(data)));
      const answer = reply(frames);
      if (answer !== undefined) socket.send(answer);
      arrived?.();
    });
    socket.on('close', (code) => socketClosed(code));
    socket.send(encodeFrame({ name: 'CHALLENGE', requestId: 0, nonce: new Uint8Array(32), serverTime: Date.now() }));
  });
  await new Promise((resolve) => server.once('listening', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  const nextFrame = async (): Promise<Frame> => {
    while (frames.length <= taken) await new Promise<void>((resolve) => (arrived = resolve));
    const frame = frames[taken++];
    if (frame === undefined) throw new Error('no frame');
    return frame;
  };
  return { url: `ws://127.0.0.1:${address.port}`, frames, nextFrame, closed };
}

const ids = (frame: Frame): number[] =>
  frame.name === 'ACKS' ? (decodeMessageIds(frame.messageIds) ?? []).map((id) => id[0] ?? -1) : frame.name === 'ACK' ? [frame.messageId[0] ?? -1] : [];

describe('relay session', () => {
  it('settles each request an OKS names with its own OK', async () => {
    const relay = await recordingRelay((frames) =>
      frames.length === 2 ? encodeFrame({ name: 'OKS', requestId: 0, requestIds: encodeRequestIds(frames.map((frame) => frame.requestId).reverse()) }) : undefined,
    );
    const session = await RelaySession.connect(relay.url, 5_000);
    const replies = [session.request({ name: 'LOOKUP', username: 'alice' }, 5_000), session.request({ name: 'LOOKUP', username: 'bob' }, 5_000)];
    await relay.nextFrame();
    await relay.nextFrame();
    const requestIds = relay.frames.map((frame) => frame.requestId);
    expect(await Promise.all(replies)).toEqual(requestIds.map((requestId) => ({ name: 'OK', requestId })));
    session.close();
  });

  it('acknowledges a burst together: ACK for the first, one ACKS for the rest, and what waits before it closes', async () => {
    const relay = await recordingRelay();
    const session = await RelaySession.connect(relay.url, 5_000);
    for (const n of [1, 2, 3, 4]) session.acknowledge(new Uint8Array(16).fill(n));
    const first = await relay.nextFrame();
    expect([first.name, ids(first)]).toEqual(['ACK', [1]]);
    const burst = await relay.nextFrame();
    expect([burst.name, ids(burst)]).toEqual(['ACKS', [2, 3, 4]]);
    session.acknowledge(new Uint8Array(16).fill(5));
    session.close();
    expect(await relay.closed).toBe(1000);
    expect(relay.frames.slice(2).map(ids)).toEqual([[5]]);
  });

  it('drops a connection whose relay sends a client-only frame, without throwing', async () => {
    const url = await fakeRelay(encodeFrame({ name: 'SEND', requestId: 0, to: 'bob', messageId: new Uint8Array(16), envelope: new Uint8Array(4) }));
    const session = await RelaySession.connect(url, 5_000);
    const code = await new Promise<number>((resolve) => session.onClose(resolve));
    expect(session.closed).toBe(true);
    expect(code).toBe(1006);
  });

  it('hands a pushed RECEIPT to the push listener (held until one is attached)', async () => {
    const messageId = new Uint8Array(16).fill(9);
    const url = await fakeRelay(encodeFrame({ name: 'RECEIPT', requestId: 0, messageId, ackedAt: 42 }));
    const session = await RelaySession.connect(url, 5_000);
    const pushed = await new Promise((resolve) => session.onPush(resolve));
    expect(pushed).toEqual({ name: 'RECEIPT', requestId: 0, messageId, ackedAt: 42 });
    session.close();
  });
});
