// Benchmark child: the bare baseline. A client's first message is its u32 id; every later message starts with
// the u32 id of its destination and is forwarded there unchanged. Nothing else: no auth, no storage, no acks.
// With --acks it also moves the relay's other frames, and still nothing else: receivers' acknowledgements (from ids
// >= RECEIVER_IDS) are read and dropped, and each sender is owed an OK per message, sent as one frame every
// DEFAULT_HOLD_MS, when the relay's commits answer the SENDs they settle.
import { WebSocketServer, type WebSocket } from 'ws';
import { DEFAULT_HOLD_MS } from '../../relay/src/options.js';

const RECEIVER_IDS = 1_000_000;
const acks = process.argv.includes('--acks');
/** OKs owed, by sender. */
const owed = new Map<WebSocket, number>();
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
    if (acks && id >= RECEIVER_IDS) return;
    peers.get(data.readUInt32BE(0))?.send(data);
    if (acks) owed.set(socket, (owed.get(socket) ?? 0) + 1);
  });
});
if (acks) {
  setInterval(() => {
    // An OKS's size: a few bytes of header, then a 4-byte request id per OK.
    for (const [sender, count] of owed) sender.send(Buffer.alloc(8 + 4 * count));
    owed.clear();
  }, DEFAULT_HOLD_MS);
}
wss.on('listening', () => {
  const address = wss.address();
  if (typeof address === 'object' && address !== null) process.stdout.write(`ws://127.0.0.1:${address.port}\n`);
});
process.once('SIGTERM', () => process.exit(0));
