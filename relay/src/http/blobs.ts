import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import type { ResolvedRelayOptions } from '../options.js';
import type { RelayStore } from '../store/ports.js';
import type { TokenService } from '../tokens.js';
import { authorize, sendJson } from './bearer.js';

export const BLOB_PATH = '/v1/blobs';

export interface BlobDeps {
  readonly tokens: TokenService;
  readonly store: RelayStore;
  readonly options: ResolvedRelayOptions;
}

/**
 * PUT /v1/blobs: store an encrypted attachment (the body), answer 201 {id, expiresAt}.
 * GET /v1/blobs/ID: its bytes. Both need a Bearer access token; the relay never sees a blob's key.
 */
export async function handleBlobs(request: IncomingMessage, response: ServerResponse, path: string, requestId: string, deps: BlobDeps): Promise<void> {
  const { store, options } = deps;
  const username = await authorize(request, response, requestId, deps);
  if (username === undefined) {
    request.resume();
    return;
  }
  if (request.method === 'PUT' && path === BLOB_PATH) {
    const declared = Number(request.headers['content-length'] ?? Number.NaN);
    if (declared > options.maxBlobBytes) {
      // Refused before reading: the client learns why, and the connection is not kept for the unread body.
      response.setHeader('connection', 'close');
      sendJson(response, 413, { code: 'BLOB_TOO_LARGE', message: `blobs are at most ${options.maxBlobBytes} bytes` }, requestId);
      request.resume();
      return;
    }
    const stored = await store.blobs.put(request, options.maxBlobBytes, options.now(), options.blobTtlMs);
    if (!stored.ok) {
      response.setHeader('connection', 'close');
      sendJson(response, 413, { code: 'BLOB_TOO_LARGE', message: `blobs are at most ${options.maxBlobBytes} bytes` }, requestId);
      return;
    }
    sendJson(response, 201, { id: stored.id, expiresAt: stored.expiresAt }, requestId);
    return;
  }
  if ((request.method === 'GET' || request.method === 'HEAD') && path.startsWith(`${BLOB_PATH}/`)) {
    const id = path.slice(BLOB_PATH.length + 1);
    const info = store.blobs.info(id, options.now());
    if (info === undefined) {
      sendJson(response, 404, { code: 'BLOB_NOT_FOUND', message: 'no such blob, or it has expired' }, requestId);
      return;
    }
    response.writeHead(200, {
      'content-type': 'application/octet-stream',
      'content-length': info.size,
      'cache-control': 'no-store',
      'x-request-id': requestId,
    });
    if (request.method === 'HEAD') {
      response.end();
      return;
    }
    await pipeline(store.blobs.read(id), response);
    return;
  }
  request.resume();
  sendJson(response, 405, { code: 'METHOD_NOT_ALLOWED', message: 'PUT /v1/blobs or GET /v1/blobs/ID' }, requestId);
}
