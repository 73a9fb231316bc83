// Benchmark child: the bare baseline. A client's first message is its u32 id; every later message starts with
// the u32 id of its destination and is forwarded there unchanged. Nothing else: no auth, no storage, no acks.
import { WebSocketServer, type WebSocket } from 'ws';

const peers = new Map<number, WebSocket>();
const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false, maxPayload: 1 << 20 });
wss.on('connection', (socket) => {
  socket.on('error', () => undefined);
  let id: number | undefined;
  socket.on('message', (data: Buffer) => {
    if (id === undefined) {
      id = data.readUInt32BE(0);
      peers.set(id, socket);
      return;
    }
    peers.get(data.readUInt32BE(0))?.send(data);
  });
});
wss.on('listening', () => {
  const address = wss.address();
  if (typeof address === 'object' && address !== null) process.stdout.write(`ws://127.0.0.1:${address.port}\n`);
});
process.once('SIGTERM', () => process.exit(0));
