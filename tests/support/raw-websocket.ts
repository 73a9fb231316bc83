import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';

/**
 * A TCP connection upgraded to a WebSocket by hand, for tests that write a client's frames byte for byte
 * (clientFrameBytes): no WebSocket library between the test and the relay.
 */
export async function rawWebSocket(url: string): Promise<Socket> {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  socket.setNoDelay(true);
  await once(socket, 'connect');
  socket.write(
    [
      'GET / HTTP/1.1',
      `Host: ${hostname}:${port}`,
      'Upgrade: websocket',
      'Connection: Upgrade',
      `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}`,
      'Sec-WebSocket-Version: 13',
      '',
      '',
    ].join('\r\n'),
  );
  let head = '';
  while (!head.includes('\r\n\r\n')) {
    const [chunk] = (await once(socket, 'data')) as [Buffer];
    head += chunk.toString('latin1');
  }
  if (!head.startsWith('HTTP/1.1 101 ')) throw new Error(`the upgrade was refused: ${head.split('\r\n')[0] ?? ''}`);
  // What the relay sends from here on (its CHALLENGE, its replies) is left unread.
  socket.resume();
  return socket;
}
