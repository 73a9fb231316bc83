import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer, type Server as TlsServer } from 'node:https';
import type { Socket } from 'node:net';
import type { DestinationStream } from 'pino';
import { WebSocketServer, type WebSocket } from 'ws';
import { CloseCode, encodeFrame } from '../protocol/index.js';
import { Connection, type ConnectionDeps } from './connection.js';
import { readFramesDirectly } from './frame-reader.js';
import { OkPacer } from './ok-pacer.js';
import { startHeartbeat } from './heartbeat.js';
import { handleHttp } from './http/routes.js';
import { IpConnections } from './limits/ip-connections.js';
import { BlobTransfers } from './limits/blob-transfers.js';
import { PendingHandshakes } from './limits/pending-handshakes.js';
import { RelayRateLimiter } from './limits/rate-limiter.js';
import { describeError, type Log } from './log.js';
import { createLog, loadUsernameSalt } from './logger.js';
import { createMetrics } from './metrics.js';
import { relayUrl, resolveOptions, type RelayOptions } from './options.js';
import { errorFrame } from './replies.js';
import { ReceiptBoxes } from './receipts.js';
import { Router } from './router.js';
import { listen } from './listen.js';
import { loadTlsFiles } from './tls.js';
import { relayVersion } from './version.js';
import { TlsReloader, type TlsReload } from './tls-reload.js';
import { TokenService, loadTokenKeys } from './tokens.js';
import type { RelayStore } from './store/ports.js';
import { openSqliteStore } from './store/sqlite.js';
import { StorageAlarm } from './store/storage-full.js';
import { ThrottledLog } from './throttled-log.js';
import { startUpkeep } from './upkeep.js';
import { explainOpenFailure } from './store/open-failure.js';
import { diskFreeBytes } from './store/storage-usage.js';
import { GroupCommit } from './store/group-commit.js';
import { addressFilter, clientAddress } from './client-address.js';
import { HeldEnvelopes } from './delivery/held-envelopes.js';

export type { RelayOptions } from './options.js';

export interface RelayHandle {
  /** ws://host:port (wss:// with TLS), with the port actually bound. */
  url: string;
  host: string;
  port: number;
  /** Envelopes waiting for this user (0 for an unknown user). */
  queueDepth(username: string): number;
  /**
   * Drop envelopes past the queue's age cap or their own ttl, expired blobs and delivered ids past their memory, with
   * the next commit (it also runs every purgeIntervalMs); resolves with how many envelopes and blobs went, once durable.
   */
  purgeExpired(): Promise<number>;
  /** Read the TLS certificate and key again and serve them to new connections if they changed and belong together (what SIGHUP does). */
  reloadTls(): TlsReload;
  /** Stop accepting, finish the frames already read, close every connection, stop listening, close the database. Safe to call more than once. */
  close(): Promise<void>;
}

export interface StartRelayExtras {
  /** Where log events go instead of a pino log built from the options (embedding). */
  readonly log?: Log;
  /** Where the pino JSON lines go instead of stderr (tests read them). */
  readonly logDestination?: DestinationStream;
  /** Stands between the relay and its opened store (tests hold its flushes to the disk). */
  readonly wrapStore?: (store: RelayStore) => RelayStore;
}

/** Clients get this long to answer the closing handshake before their sockets are dropped. */
const SHUTDOWN_GRACE_MS = 2_000;
/** How often Node looks for requests past their time (headers of a kept-alive connection's later requests, whole requests). */
const REQUEST_CHECK_MS = 1_000;
/** While connections past maxConnections are refused, at most one `connections_full` line this often. */
export const CONNECTIONS_FULL_LOG_MS = 60_000;

/** Shared by every socket: an 'error' listener so none is ever unhandled (the Connection logs its own). */
function ignoreError(): void {}

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

/** Turn a socket away before it becomes a Connection: an ERROR with the retry delay, then a close. */
function turnAway(socket: WebSocket, code: 'RATE_LIMITED' | 'TOO_MANY_CONNECTIONS', message: string, retryAfterMs: number): void {
  socket.send(encodeFrame(errorFrame(0, code, message, retryAfterMs)));
  socket.close(CloseCode.TRY_AGAIN_LATER, code);
}

/** Start a relay: open (and migrate) the database in dataDir, then accept WebSocket clients and HTTP probes. */
export async function startRelay(options: RelayOptions, extras: StartRelayExtras = {}): Promise<RelayHandle> {
  const resolved = resolveOptions(options);
  // Checked before anything is opened or created: unusable TLS files stop the relay with the data folder untouched.
  const tlsFiles = resolved.tls === undefined ? undefined : loadTlsFiles(resolved.tls);
  let opened: RelayStore;
  try {
    opened = openSqliteStore(resolved.dataDir, {
      maxDeliveredIds: resolved.maxDeliveredIds,
      maxDatabaseBytes: resolved.maxDatabaseBytes,
      onCheckpointerFailed: (error) => log('checkpointer_failed', describeError(error)),
      onCheckpointFailed: (error) => log('checkpoint_failed', describeError(error)),
    });
  } catch (error) {
    throw explainOpenFailure(error, resolved.dataDir);
  }
  const store = extras.wrapStore?.(opened) ?? opened;
  const log =
    extras.log ??
    createLog({
      level: resolved.logLevel,
      usernameSalt: resolved.hashUsernames ? loadUsernameSalt(resolved.dataDir) : undefined,
      destination: extras.logDestination,
    });
  // Held envelopes are committed on a grid of their hold (holdMs, stretched when recipients ack later): each waits one to two holds, and their senders' OKs leave in fewer writes.
  const writes = new GroupCommit(store.transaction, resolved.holdMs, store.syncCommitted, store.inTransaction);
  const held = new HeldEnvelopes(writes, store.queue, resolved.holdMs);
  let tlsServer: TlsServer | undefined;
  const tls =
    resolved.tls === undefined || tlsFiles === undefined
      ? undefined
      : new TlsReloader(resolved.tls, tlsFiles, (files) => tlsServer?.setSecureContext({ cert: files.cert, key: files.key }), log);
  const transfers = new BlobTransfers(resolved.maxBlobTransfers, resolved.maxBlobTransfersPerUser);
  const metrics = createMetrics({
    queueDepth: () => store.queue.totalDepth(),
    held,
    storage: {
      databaseBytes: () => store.databaseBytes(),
      diskFreeBytes: () => diskFreeBytes(resolved.dataDir),
      maxDatabaseBytes: resolved.maxDatabaseBytes,
    },
    tlsCertificate: tls,
    blobTransfers: transfers,
    sockets: { max: resolved.maxConnections, open: () => new Promise((resolve) => http.getConnections((error, count) => resolve(error === null ? count : 0))) },
  });
  const storage = new StorageAlarm(log, () => metrics.storageFull.inc());
  const full = new ThrottledLog(log, 'connections_full', CONNECTIONS_FULL_LOG_MS);
  const limiter = new RelayRateLimiter(resolved.rateLimits, (name) => metrics.countLimited(name));
  const ipConnections = new IpConnections(resolved.maxConnectionsPerIp);
  const tokens = new TokenService(loadTokenKeys(resolved.dataDir), resolved.tokenAudience, resolved.tokenTtlMs, resolved.now);
  const receipts = ReceiptBoxes.load(resolved.dataDir);
  const router = new Router();
  const addressOf = clientAddress(resolved.trustedProxies);
  const metricsReader = addressFilter('metricsFrom', resolved.metricsFrom);
  const connections = new Set<Connection>();
  // One object for every connection, rather than one each.
  const connectionDeps: ConnectionDeps = {
    store,
    writes,
    router,
    options: resolved,
    log,
    limiter,
    metrics,
    tokens,
    receipts,
    held,
    okPacer: new OkPacer(),
    sendLimits: { caps: { count: resolved.maxQueuedPerUser, bytes: resolved.maxQueuedBytesPerUser }, maxTtlMs: resolved.maxTtlMs },
    storage,
    onClosed(connection) {
      connections.delete(connection);
      metrics.connections.dec();
    },
  };
  let nextConnectionId = 1;
  let closing: Promise<void> | undefined;

  const handshakes = new PendingHandshakes(resolved.handshakeTimeoutMs, resolved.maxHandshakesPerIp, addressFilter('trustedProxies', resolved.trustedProxies), (reason) => {
    if (reason === 'cap') metrics.countLimited('handshakes');
    else metrics.countCut('handshake_timeout');
  });
  const onHttp = (request: IncomingMessage, response: ServerResponse): void => {
    handshakes.finished(request.socket);
    handleHttp(request, response, { metrics, ready: () => closing === undefined, log, tokens, store, options: resolved, receipts, addressOf, metricsReader, limiter, storage, transfers });
  };
  let http: Server;
  try {
    const timeouts = { headersTimeout: resolved.handshakeTimeoutMs, connectionsCheckingInterval: REQUEST_CHECK_MS };
    if (tlsFiles === undefined) http = createServer(timeouts, onHttp);
    else http = tlsServer = createTlsServer({ cert: tlsFiles.cert, key: tlsFiles.key, ...timeouts }, onHttp);
  } catch (error) {
    store.close();
    throw error;
  }
  // Past it Node closes a new socket as it is accepted, before any object is made for it: the descriptors left stay the
  // relay's own (its database, blobs on their way), where a full table would fail them with EMFILE.
  http.maxConnections = resolved.maxConnections;
  http.on('drop', () => {
    metrics.countLimited('maxConnections');
    full.note(() => ({ maxConnections: resolved.maxConnections }));
  });
  // 'connection' is the TCP socket for TLS too, so a stalled TLS handshake is timed and counted like a silent socket.
  http.on('connection', (socket: Socket) => handshakes.accepted(socket));
  http.on('upgrade', (request: IncomingMessage) => handshakes.finished(request.socket));
  // Compression stays off: it would let a small frame inflate past maxPayload's intent.
  // clientTracking off: the relay keeps its own set of connections, and each socket is one closure and set entry lighter.
  const wss = new WebSocketServer({ server: http, maxPayload: resolved.maxFrameBytes, perMessageDeflate: false, clientTracking: false });
  let listening = false;
  // Before listening, an error is the listen's own, and startRelay rejects with it.
  wss.on('error', (error) => {
    if (listening) log('server_error', describeError(error));
  });
  wss.on('connection', (socket, request) => {
    socket.on('error', ignoreError); // never an unhandled 'error', even on a socket being turned away
    if (closing !== undefined) {
      socket.close(CloseCode.GOING_AWAY, 'relay shutting down');
      return;
    }
    const ip = addressOf(request);
    // Taken here, so no closure below keeps the upgrade request (and its headers) alive as long as the socket.
    const transport = request.socket;
    if (!ipConnections.tryOpenSocket(socket, ip)) {
      metrics.countLimited('connections');
      turnAway(socket, 'TOO_MANY_CONNECTIONS', `at most ${resolved.maxConnectionsPerIp} connections per address`, 0);
      return;
    }
    // Hold its frames in TCP until the limiter has answered and the Connection listens.
    socket.pause();
    void limiter.take('connections', ip).then(
      (retryAfterMs) => {
        if (retryAfterMs > 0) {
          socket.resume(); // the closing handshake needs the client's close frame read
          turnAway(socket, 'RATE_LIMITED', 'too many new connections from this address', retryAfterMs);
          return;
        }
        if (closing !== undefined || socket.readyState !== socket.OPEN) {
          socket.close(CloseCode.GOING_AWAY, 'relay shutting down');
          return;
        }
        const connection = new Connection(socket, connectionDeps, nextConnectionId++, ip, transport);
        readFramesDirectly(transport, resolved.maxFrameBytes, connection);
        connections.add(connection);
        metrics.connections.inc();
        socket.resume();
      },
      (error: unknown) => {
        log('internal_error', describeError(error));
        socket.close(CloseCode.INTERNAL_ERROR, 'internal error');
      },
    );
  });

  let port: number;
  try {
    await listen(http, resolved.port, resolved.host);
    const address = http.address();
    if (address === null || typeof address === 'string') throw new Error('relay is not listening on a TCP port');
    port = address.port;
    listening = true;
  } catch (error) {
    http.close();
    store.close();
    throw error;
  }
  // What an operator checks first in a log: where it listens and how it admits people (no secrets in any of it).
  log('relay_started', {
    version: relayVersion(),
    host: resolved.host,
    port,
    tls: resolved.tls !== undefined,
    ...(tls === undefined ? {} : { tlsExpiresAt: new Date(tls.certificate.expiresAt).toISOString() }),
    registration: resolved.registration,
    trustedProxies: resolved.trustedProxies.join(','),
    metricsFrom: resolved.metricsFrom.join(','),
    hashUsernames: resolved.hashUsernames,
    maxConnections: resolved.maxConnections,
  });

  const stopHeartbeat = startHeartbeat(connections, resolved.pingIntervalMs);
  // A renewed certificate is picked up without a restart, even when no one sends SIGHUP.
  const stopTlsRechecks = tls?.startRechecks();
  const upkeep = startUpkeep({ store, writes, options: resolved, metrics, log, storage });

  async function shutdown(): Promise<void> {
    stopHeartbeat();
    stopTlsRechecks?.();
    upkeep.stop();
    const stopped = new Promise<void>((resolve) => http.close(() => resolve()));
    const open = [...connections];
    // Finish what was already read (each SEND read gets its answer), then say goodbye.
    await Promise.all(open.map((connection) => connection.quiesce()));
    // Envelopes held for their ACK are written now, so their OKs leave before the goodbye.
    writes.flush();
    await writes.settled();
    for (const connection of open) connection.shutdown();
    const allClosed = Promise.all(open.map((connection) => connection.whenClosed()));
    if (!(await settlesWithin(allClosed, SHUTDOWN_GRACE_MS))) {
      for (const connection of open) connection.terminate();
    }
    await allClosed;
    await new Promise<void>((resolve) => wss.close(() => resolve()));
    http.closeAllConnections();
    handshakes.dropAll();
    await stopped;
    // ACKs still waiting for their group commit, and the delivered ids, are written before the database closes.
    writes.flush();
    await writes.settled();
    try {
      store.queue.flushDelivered();
    } catch (error) {
      // The ids are forgotten, as by a crash: a late retry of one is delivered again, and its recipient drops it.
      if (!storage.refused(error)) log('internal_error', describeError(error));
    } finally {
      store.close();
    }
  }

  return {
    url: relayUrl(resolved, port),
    host: resolved.host,
    port,
    queueDepth: (username) => store.queue.depth(username),
    purgeExpired: upkeep.purgeExpired,
    reloadTls: () => tls?.reload('signal') ?? { ok: false, code: 'TLS_NOT_CONFIGURED', message: 'the relay serves plain ws:// (no tlsCertPath and tlsKeyPath)' },
    close: () => (closing ??= shutdown()),
  };
}
