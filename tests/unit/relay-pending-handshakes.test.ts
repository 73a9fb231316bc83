import { once } from 'node:events';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { PendingHandshakes, type HandshakeRefusal } from '../../relay/src/limits/pending-handshakes.js';

const servers: Server[] = [];
const sockets: Socket[] = [];

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

/** A loopback listener whose accepted sockets are handed to the test as they come, and a way to connect to it. */
async function listener(): Promise<{ accept: () => Promise<{ accepted: Socket; client: Socket }> }> {
  const server = createServer();
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  return {
    accept: async () => {
      const client = connect(port, '127.0.0.1');
      const [accepted] = (await once(server, 'connection')) as [Socket];
      sockets.push(accepted, client);
      return { accepted, client };
    },
  };
}

function pendingHandshakes(timeoutMs: number, maxPerAddress: number): { handshakes: PendingHandshakes; refused: HandshakeRefusal[] } {
  const refused: HandshakeRefusal[] = [];
  return { handshakes: new PendingHandshakes(timeoutMs, maxPerAddress, () => false, (reason) => void refused.push(reason)), refused };
}

describe('pending handshakes', () => {
  it('frees the place of a socket its client closed before any request, at once and with no timeout counted', async () => {
    const { accept } = await listener();
    const { handshakes, refused } = pendingHandshakes(60_000, 1);
    const first = await accept();
    handshakes.accepted(first.accepted);
    expect(handshakes.size).toBe(1);
    first.client.destroy();
    await once(first.accepted, 'close');
    expect(handshakes.size).toBe(0);

    const second = await accept();
    handshakes.accepted(second.accepted);
    expect(second.accepted.destroyed).toBe(false);
    expect(refused).toEqual([]);
  });

  it('refuses a socket past the cap for its address, and times out one that sends no request', async () => {
    const { accept } = await listener();
    const { handshakes, refused } = pendingHandshakes(200, 1);
    const silent = await accept();
    handshakes.accepted(silent.accepted);
    const over = await accept();
    handshakes.accepted(over.accepted);
    expect(over.accepted.destroyed).toBe(true);
    expect(refused).toEqual(['cap']);

    await once(silent.accepted, 'close');
    expect(refused).toEqual(['cap', 'timeout']);
    const next = await accept();
    handshakes.accepted(next.accepted);
    expect(next.accepted.destroyed).toBe(false);
  });

  it('leaves a socket that sent its request with no timer and no listener of its own, and its place free', async () => {
    const { accept } = await listener();
    const { handshakes, refused } = pendingHandshakes(100, 1);
    const upgraded = await accept();
    const closeListeners = upgraded.accepted.listenerCount('close');
    handshakes.accepted(upgraded.accepted);
    handshakes.finished(upgraded.accepted);
    expect(upgraded.accepted.listenerCount('close')).toBe(closeListeners);
    expect(handshakes.size).toBe(0);

    // A later socket from the same address is timed as usual, and its timeout does not touch the finished one.
    const silent = await accept();
    handshakes.accepted(silent.accepted);
    await once(silent.accepted, 'close');
    expect(refused).toEqual(['timeout']);
    expect(upgraded.accepted.destroyed).toBe(false);
  });
});
