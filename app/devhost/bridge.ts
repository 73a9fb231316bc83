import type { IncomingMessage, Server } from 'node:http';
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import {
  BRIDGE_PATH,
  BridgeRequest,
  EVENT_NAMES,
  fail,
  toErrorShape,
  validateInvocation,
  type MethodInput,
  type BridgeReply,
  type ParleyApi,
} from '../shared/index.js';
import { tokenMatches } from './httpSecurity.js';

/** Largest bridge message accepted; a message is at most MAX_MESSAGE_CHARS plus a small envelope. */
export const BRIDGE_MAX_PAYLOAD_BYTES = 256 * 1024;

export interface BridgeOptions {
  server: Server;
  api: ParleyApi;
  token: string;
  /** The devhost's own origin, e.g. http://127.0.0.1:5180; browsers send it and pages elsewhere cannot fake it. */
  origin: string;
  /** The Host header the devhost expects; anything else is a DNS-rebinding attempt or a wrong address. */
  host: string;
  /** Called when the last bridge socket closes: every page that held the session is gone. */
  onLastSocketClosed(): void;
}

export interface Bridge {
  close(): void;
}

function refuse(socket: Duplex, status: number): void {
  socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

/** Why an upgrade request may not become a bridge socket, as an HTTP status; null when it may. */
function refusalStatus(req: IncomingMessage, options: BridgeOptions): number | null {
  const url = new URL(req.url ?? '/', 'http://devhost.invalid');
  if (url.pathname !== BRIDGE_PATH) return 404;
  if (req.headers.host !== options.host) return 403;
  if (!tokenMatches(options.token, url.searchParams.get('token') ?? '')) return 401;
  if (req.headers.origin !== options.origin) return 403;
  return null;
}

function messageText(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data instanceof ArrayBuffer ? new Uint8Array(data) : data).toString('utf8');
}

/** Answer one bridge message; never throws, every failure is a Result with a stable code. */
async function answer(api: ParleyApi, data: RawData): Promise<BridgeReply> {
  let json: unknown;
  try {
    json = JSON.parse(messageText(data));
  } catch {
    return { id: null, result: fail({ code: 'VALIDATION_FAILED', message: 'The message is not JSON' }) };
  }
  const request = BridgeRequest.safeParse(json);
  if (!request.success) {
    return { id: null, result: fail({ code: 'VALIDATION_FAILED', message: 'Expected {id, method, input}' }) };
  }
  const { id } = request.data;
  try {
    const { method, input } = validateInvocation(request.data.method, request.data.input);
    return { id, result: await api.invoke(method, input as MethodInput<typeof method>) };
  } catch (error) {
    return { id, result: fail(toErrorShape(error)) };
  }
}

/** Carries the IPC contract between the browser page and core over a token- and origin-checked WebSocket. */
export function attachBridge(options: BridgeOptions): Bridge {
  const wss = new WebSocketServer({ noServer: true, maxPayload: BRIDGE_MAX_PAYLOAD_BYTES, perMessageDeflate: false });
  wss.on('error', (error) => console.error('bridge server error:', error.message));

  const send = (ws: WebSocket, message: unknown): void => {
    if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(message));
  };

  let closing = false;
  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    socket.on('error', () => socket.destroy());
    const status = refusalStatus(req, options);
    if (status !== null) {
      refuse(socket, status);
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  };
  options.server.on('upgrade', onUpgrade);

  wss.on('connection', (ws: WebSocket) => {
    ws.on('error', () => ws.terminate());
    ws.on('close', () => {
      if (!closing && wss.clients.size === 0) options.onLastSocketClosed();
    });
    ws.on('message', (data) => {
      void answer(options.api, data).then((reply) => send(ws, reply));
    });
  });

  const unsubscribes = EVENT_NAMES.map((event) =>
    options.api.on(event, (payload) => {
      const message = { event, payload };
      for (const ws of wss.clients) send(ws, message);
    }),
  );

  return {
    close() {
      closing = true;
      options.server.off('upgrade', onUpgrade);
      for (const unsubscribe of unsubscribes) unsubscribe();
      for (const ws of wss.clients) ws.terminate();
      wss.close();
    },
  };
}
