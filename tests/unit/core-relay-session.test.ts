import { WebSocketServer } from 'ws';
import { afterEach, describe, expect, it } from 'vitest';
import { RelaySession } from '../../app/core/net/relay-session.js';
import { encodeFrame } from '../../relay/protocol/index.js';

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

describe('relay session', () => {
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
