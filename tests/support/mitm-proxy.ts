import { WebSocket, WebSocketServer, type RawData } from 'ws';
import { FRAME_SCHEMA, MAX_FRAME_BYTES } from '../../relay/protocol/index.js';

export interface MitmProxy {
  readonly url: string;
  /** Frames duplicated and pairs swapped so far, per direction. */
  readonly stats: { duplicatedSends: number; duplicatedDelivers: number; swappedDelivers: number };
  close(): Promise<void>;
}

const toBuffer = (data: RawData): Buffer => (Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data));
const typeOf = (frame: Buffer): number | undefined => frame[1];

/**
 * A WebSocket man-in-the-middle on loopback between cores and a relay. It sends every SEND (with or without receipt) to the
 * relay twice, and every DELIVER to the client twice, with each pair of consecutive DELIVERs swapped
 * (a held DELIVER is released, in order, as soon as any other frame passes, or after 50 ms).
 */
export async function startMitmProxy(relayUrl: string): Promise<MitmProxy> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0, maxPayload: MAX_FRAME_BYTES });
  const stats = { duplicatedSends: 0, duplicatedDelivers: 0, swappedDelivers: 0 };
  const sockets = new Set<WebSocket>();
  server.on('connection', (client) => {
    const upstream = new WebSocket(relayUrl, { maxPayload: MAX_FRAME_BYTES });
    sockets.add(client).add(upstream);
    const early: Buffer[] = [];
    let held: Buffer | undefined;
    const toClient = (frame: Buffer): void => {
      if (client.readyState === WebSocket.OPEN) client.send(frame);
    };
    const deliver = (frame: Buffer): void => {
      toClient(frame);
      toClient(frame);
      stats.duplicatedDelivers += 1;
    };
    client.on('error', () => upstream.terminate());
    upstream.on('error', () => client.terminate());
    client.on('close', () => upstream.close());
    upstream.on('close', (code) => client.close(code === 1005 || code === 1006 ? 1000 : code));
    upstream.on('open', () => {
      for (const frame of early.splice(0)) upstream.send(frame);
    });
    client.on('message', (data) => {
      const frame = toBuffer(data);
      const type = typeOf(frame);
      const copies = type === FRAME_SCHEMA.SEND.type || type === FRAME_SCHEMA.SEND_WITH_RECEIPT.type ? 2 : 1;
      if (copies === 2) stats.duplicatedSends += 1;
      for (let i = 0; i < copies; i += 1) {
        if (upstream.readyState === WebSocket.OPEN) upstream.send(frame);
        else early.push(frame);
      }
    });
    upstream.on('message', (data) => {
      const frame = toBuffer(data);
      if (typeOf(frame) !== FRAME_SCHEMA.DELIVER.type) {
        if (held !== undefined) deliver(held);
        held = undefined;
        toClient(frame);
        return;
      }
      if (held === undefined) {
        held = frame;
        // A lone DELIVER is not held for ever: released if no partner or other frame comes soon.
        setTimeout(() => {
          if (held !== frame) return;
          held = undefined;
          deliver(frame);
        }, 50);
        return;
      }
      deliver(frame);
      deliver(held);
      stats.swappedDelivers += 1;
      held = undefined;
    });
  });
  await new Promise<void>((resolve) => server.once('listening', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('proxy has no port');
  return {
    url: `ws://127.0.0.1:${address.port}`,
    stats,
    async close() {
      for (const socket of sockets) socket.terminate();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
