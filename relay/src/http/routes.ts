import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressFilter, ClientAddress } from '../client-address.js';
import { describeError, type Log } from '../log.js';
import type { RelayMetrics } from '../metrics.js';
import type { ResolvedRelayOptions } from '../options.js';
import { BLOB_PATH, handleBlobs } from './blobs.js';
import type { BlobTransfers } from '../limits/blob-transfers.js';
import type { RelayStore } from '../store/ports.js';
import type { ReceiptBoxes } from '../receipts.js';
import type { TokenService } from '../tokens.js';
import type { RelayRateLimiter } from '../limits/rate-limiter.js';
import { STORAGE_FULL_RETRY_MS, type StorageAlarm } from '../store/storage-full.js';
import { authorize, sendError, sendJson } from './bearer.js';

export interface HttpDeps {
  readonly metrics: RelayMetrics;
  /** False once the relay is shutting down: load balancers should stop sending clients. */
  readonly ready: () => boolean;
  readonly log: Log;
  readonly tokens: TokenService;
  readonly store: RelayStore;
  readonly options: ResolvedRelayOptions;
  readonly receipts: ReceiptBoxes;
  /** The client's address (behind a trusted proxy, the one it forwarded for). */
  readonly addressOf: ClientAddress;
  /** Whether an address may read /metrics (metricsFrom). */
  readonly metricsReader: AddressFilter;
  readonly limiter: RelayRateLimiter;
  /** Counts and logs writes refused because the disk or the database's cap is full. */
  readonly storage: StorageAlarm;
  /** Blob uploads and downloads in progress, capped per user and in all. */
  readonly transfers: BlobTransfers;
}

/** The API's prefix: its requests count against rateLimits.http; the probes and /metrics do not. */
const API_PREFIX = '/v1/';

/** A request id from a proxy's X-Request-Id if it looks like one, else a fresh one; echoed in the response. */
function requestId(request: IncomingMessage): string {
  const given = request.headers['x-request-id'];
  return typeof given === 'string' && /^[\w.-]{1,64}$/.test(given) ? given : randomUUID();
}

function reply(response: ServerResponse, status: number, body: string, id: string, contentType = 'text/plain; charset=utf-8'): void {
  response.writeHead(status, { 'content-type': contentType, 'cache-control': 'no-store', 'x-request-id': id });
  response.end(body);
}

/** Plain HTTP on the WebSocket port: liveness, readiness, Prometheus metrics, the /v1/ API; anything else is told to upgrade. */
export function handleHttp(request: IncomingMessage, response: ServerResponse, deps: HttpDeps): void {
  const id = requestId(request);
  const path = (request.url ?? '/').split('?')[0] ?? '/';
  if (!path.startsWith(API_PREFIX)) {
    // Nothing outside the API is rate-limited, so nothing there keeps its connection: one address asking for /healthz
    // every few seconds could otherwise hold any number of connections open, past every per-address cap.
    response.setHeader('connection', 'close');
    route(request, response, path, id, deps);
    return;
  }
  deps.limiter.take('http', deps.addressOf(request)).then(
    (retryAfterMs) => {
      if (retryAfterMs === 0) return route(request, response, path, id, deps);
      response.setHeader('retry-after', String(Math.ceil(retryAfterMs / 1000)));
      // A refusal's connection goes with it (a refused upload's body is not read): a client sending refused requests
      // every few seconds could otherwise keep any number of connections open.
      response.setHeader('connection', 'close');
      sendError(response, 429, { code: 'RATE_LIMITED', message: 'too many requests from this address', retryAfterMs }, id);
      request.resume();
    },
    (error: unknown) => {
      deps.log('internal_error', { req: id, ...describeError(error) });
      sendError(response, 500, { code: 'INTERNAL', message: 'internal error' }, id);
    },
  );
}

/** 507: the upload was not stored for want of space; what is left of its body is not read, so its connection goes too. */
function refuseForStorage(response: ServerResponse, id: string): void {
  response.setHeader('retry-after', String(STORAGE_FULL_RETRY_MS / 1000));
  response.setHeader('connection', 'close');
  sendError(response, 507, { code: 'STORAGE_FULL', message: 'the relay is out of storage; try again later', retryAfterMs: STORAGE_FULL_RETRY_MS }, id);
}

function route(request: IncomingMessage, response: ServerResponse, path: string, id: string, deps: HttpDeps): void {
  if (path === BLOB_PATH || path.startsWith(`${BLOB_PATH}/`)) {
    handleBlobs(request, response, path, id, deps).catch((error: unknown) => {
      const full = deps.storage.refused(error);
      if (!full) deps.log('blob_failed', { req: id, ...describeError(error) });
      if (response.headersSent) response.destroy();
      else if (full) refuseForStorage(response, id);
      else sendError(response, 500, { code: 'INTERNAL', message: 'internal error' }, id);
    });
    return;
  }
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    response.setHeader('allow', 'GET, HEAD');
    reply(response, 405, 'method not allowed\n', id);
    return;
  }
  switch (path) {
    case '/healthz':
      reply(response, 200, 'ok\n', id);
      return;
    case '/readyz':
      if (deps.ready()) reply(response, 200, 'ready\n', id);
      else reply(response, 503, 'shutting down\n', id);
      return;
    case '/metrics':
      if (!deps.metricsReader(deps.addressOf(request))) {
        reply(response, 403, 'metrics are served only to the addresses in metricsFrom\n', id);
        return;
      }
      deps.metrics.registry.metrics().then(
        (text) => reply(response, 200, text, id, deps.metrics.registry.contentType),
        (error: unknown) => {
          deps.log('metrics_failed', { req: id, ...describeError(error) });
          reply(response, 500, 'metrics unavailable\n', id);
        },
      );
      return;
    case '/v1/whoami':
      // The smallest Bearer-protected endpoint: who does this token speak for?
      void authorize(request, response, id, deps).then((username) => {
        if (username !== undefined) sendJson(response, 200, { username }, id);
      });
      return;
    default:
      response.setHeader('upgrade', 'websocket');
      reply(response, 426, 'Parley relay: connect with a WebSocket client\n', id);
  }
}
