import { createServer, type Server } from 'node:http';
import { WebSocketServer } from 'ws';
import { CloseCode } from '../protocol/index.js';
import { Connection } from './connection.js';
import { describeError, log } from './log.js';
import { resolveOptions, type RelayOptions } from './options.js';
import { Router } from './router.js';
import { openSqliteStore } from './store/sqlite.js';

export type { RelayOptions } from './options.js';

export interface RelayHandle {
  /** ws://host:port, with the port actually bound. */
  url: string;
  host: string;
  port: number;
  /** Envelopes waiting for this user (0 for an unknown user). */
  queueDepth(username: string): number;
  /** Close every connection, stop listening, close the database. Safe to call more than once. */
  close(): Promise<void>;
}

/** Clients get this long to answer the closing handshake before their sockets are dropped. */
const SHUTDOWN_GRACE_MS = 2_000;

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** Resolves true if promise settles within ms, false otherwise; leaves no timer behind. */
async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([promise.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function urlHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

/** Start a relay: open (and migrate) the database in dataDir, then accept WebSocket clients. */
export async function startRelay(options: RelayOptions): Promise<RelayHandle> {
  const resolved = resolveOptions(options);
  const store = openSqliteStore(resolved.dataDir);
  const router = new Router();
  const connections = new Set<Connection>();
  let nextConnectionId = 1;
  let closing: Promise<void> | undefined;

  const http = createServer((_request, response) => {
    response.writeHead(426, { 'content-type': 'text/plain', upgrade: 'websocket' });
    response.end('Parley relay: connect with a WebSocket client\n');
  });
  // Compression stays off: it would let a small frame inflate past maxPayload's intent.
  const wss = new WebSocketServer({ server: http, maxPayload: resolved.maxFrameBytes, perMessageDeflate: false });
  wss.on('error', (error) => log('server_error', describeError(error)));
  wss.on('connection', (socket) => {
    if (closing !== undefined) {
      socket.on('error', () => undefined); // never an unhandled 'error', even on a socket being turned away
      socket.close(CloseCode.GOING_AWAY, 'relay shutting down');
      return;
    }
    const connection = new Connection(socket, { store, router, options: resolved, log }, nextConnectionId++);
    connections.add(connection);
    void connection.closed.then(() => connections.delete(connection));
  });

  let port: number;
  try {
    await listen(http, resolved.port, resolved.host);
    const address = http.address();
    if (address === null || typeof address === 'string') throw new Error('relay is not listening on a TCP port');
    port = address.port;
  } catch (error) {
    http.close();
    store.close();
    throw error;
  }

  async function shutdown(): Promise<void> {
    const stopped = new Promise<void>((resolve) => http.close(() => resolve()));
    const open = [...connections];
    for (const connection of open) connection.shutdown();
    const allClosed = Promise.all(open.map((connection) => connection.closed));
    if (!(await settlesWithin(allClosed, SHUTDOWN_GRACE_MS))) {
      for (const connection of open) connection.terminate();
    }
    await allClosed;
    await new Promise<void>((resolve) => wss.close(() => resolve()));
    http.closeAllConnections();
    await stopped;
    store.close();
  }

  return {
    url: `ws://${urlHost(resolved.host)}:${port}`,
    host: resolved.host,
    port,
    queueDepth: (username) => store.queue.depth(username),
    close: () => (closing ??= shutdown()),
  };
}
