import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import type { ResolvedRelayOptions } from '../options.js';
import type { RelayStore } from '../store/ports.js';
import type { TokenService } from '../tokens.js';
import type { ReceiptBoxes } from '../receipts.js';
import { missingCaseError } from '../missing-case.js';
import type { Log } from '../log.js';
import type { RelayMetrics } from '../metrics.js';
import type { BlobTransfers, TransferRefusal } from '../limits/blob-transfers.js';
import { authorize, sendError, sendJson } from './bearer.js';

/** What a client refused a transfer slot is told to wait: transfers take seconds, not minutes. */
export const TRANSFER_RETRY_MS = 1_000;

export const BLOB_PATH = '/v1/blobs';

export interface BlobDeps {
  readonly tokens: TokenService;
  /** Uploads and downloads in progress, capped per user and in all. */
  readonly transfers: BlobTransfers;
  readonly metrics: Pick<RelayMetrics, 'countLimited' | 'countCut'>;
  readonly log: Log;
  readonly store: RelayStore;
  readonly options: ResolvedRelayOptions;
  /** Uploaders are recorded as their receipt-box pseudonym, for the quota. */
  readonly receipts: ReceiptBoxes;
}

/** 413 for a blob over the per-blob cap or over what is left of the uploader's quota. */
function refuse(response: ServerResponse, reason: 'too-large' | 'quota', requestId: string, options: ResolvedRelayOptions): void {
  switch (reason) {
    case 'too-large':
      sendError(response, 413, { code: 'BLOB_TOO_LARGE', message: `blobs are at most ${options.maxBlobBytes} bytes` }, requestId);
      return;
    case 'quota':
      sendError(response, 413, { code: 'BLOB_QUOTA_EXCEEDED', message: `each user may keep at most ${options.maxBlobBytesPerUser} bytes of blobs` }, requestId);
      return;
    default:
      throw missingCaseError(reason);
  }
}

/** 429 when the user has as many transfers going as one may, 503 when the relay has; an upload's unread body closes its connection. */
function refuseTransfer(request: IncomingMessage, response: ServerResponse, reason: TransferRefusal, requestId: string, options: ResolvedRelayOptions): void {
  response.setHeader('retry-after', String(TRANSFER_RETRY_MS / 1000));
  if (request.method === 'PUT') response.setHeader('connection', 'close');
  switch (reason) {
    case 'user':
      sendError(
        response,
        429,
        { code: 'TOO_MANY_TRANSFERS', message: `at most ${options.maxBlobTransfersPerUser} blob uploads and downloads at once per user`, retryAfterMs: TRANSFER_RETRY_MS },
        requestId,
      );
      break;
    case 'relay':
      sendError(response, 503, { code: 'RELAY_BUSY', message: 'the relay has as many blob transfers going as it may; try again shortly', retryAfterMs: TRANSFER_RETRY_MS }, requestId);
      break;
    default:
      throw missingCaseError(reason);
  }
  request.resume();
}

/** A transfer under way: whether the relay cut it off for idling (its stream's end is then no failure). */
interface Transfer {
  readonly cutOff: () => boolean;
}

/**
 * A transfer slot for a request that opens a blob's file (a PUT, a GET), freed when its response ends or its connection
 * goes, or cut off after blobIdleTimeoutMs with no bytes moving; undefined once the refusal is sent.
 */
function startTransfer(request: IncomingMessage, response: ServerResponse, username: string, requestId: string, deps: BlobDeps): Transfer | undefined {
  const slot = deps.transfers.take(username);
  if (typeof slot === 'string') {
    deps.metrics.countLimited(slot === 'user' ? 'maxBlobTransfersPerUser' : 'maxBlobTransfers');
    refuseTransfer(request, response, slot, requestId, deps.options);
    return undefined;
  }
  let cut = false;
  // Stalled, it would hold its place (and its file) for good: Node times a request's whole body, never a response.
  response.setTimeout(deps.options.blobIdleTimeoutMs, () => {
    cut = true;
    deps.metrics.countCut('blob_idle');
    deps.log('blob_transfer_cut', { req: requestId, idleMs: deps.options.blobIdleTimeoutMs });
    response.destroy();
  });
  // The socket's timeout is left as the response ends it: Node sets its keep-alive timeout there, which clearing it here would undo.
  response.once('close', () => slot.release());
  return { cutOff: () => cut };
}

/** Run a transfer's streaming; a rejection because the relay cut it off is not passed on. */
async function unlessCutOff<T>(transfer: Transfer, run: () => Promise<T>): Promise<T | undefined> {
  try {
    return await run();
  } catch (error) {
    if (transfer.cutOff()) return undefined;
    throw error;
  }
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
    const transfer = startTransfer(request, response, username, requestId, deps);
    if (transfer === undefined) return;
    const limits = { owner: deps.receipts.boxFor(username), maxBlobBytes: options.maxBlobBytes, quotaBytes: options.maxBlobBytesPerUser };
    const declared = Number(request.headers['content-length'] ?? Number.NaN);
    const allowance = store.blobs.allowance(limits, options.now());
    if (declared > allowance.bytes) {
      // Refused before reading: the client learns why, and the connection is not kept for the unread body.
      response.setHeader('connection', 'close');
      refuse(response, allowance.reason, requestId, options);
      request.resume();
      return;
    }
    const stored = await unlessCutOff(transfer, () => store.blobs.put(request, limits, options.now(), options.blobTtlMs));
    if (stored === undefined) return;
    if (!stored.ok) {
      response.setHeader('connection', 'close');
      refuse(response, stored.reason, requestId, options);
      return;
    }
    sendJson(response, 201, { id: stored.id, expiresAt: stored.expiresAt }, requestId);
    return;
  }
  if ((request.method === 'GET' || request.method === 'HEAD') && path.startsWith(`${BLOB_PATH}/`)) {
    const id = path.slice(BLOB_PATH.length + 1);
    const info = store.blobs.info(id, options.now());
    if (info === undefined) {
      sendError(response, 404, { code: 'BLOB_NOT_FOUND', message: 'no such blob, or it has expired' }, requestId);
      return;
    }
    const headers = { 'content-type': 'application/octet-stream', 'content-length': info.size, 'cache-control': 'no-store', 'x-request-id': requestId };
    if (request.method === 'HEAD') {
      // Opens no file, so takes no transfer slot.
      response.writeHead(200, headers).end();
      return;
    }
    const transfer = startTransfer(request, response, username, requestId, deps);
    if (transfer === undefined) return;
    response.writeHead(200, headers);
    await unlessCutOff(transfer, () => pipeline(store.blobs.read(id), response));
    return;
  }
  request.resume();
  // RFC 9110: a 405 names the methods the path does take.
  response.setHeader('allow', path === BLOB_PATH ? 'PUT' : 'GET, HEAD');
  sendError(response, 405, { code: 'METHOD_NOT_ALLOWED', message: 'PUT /v1/blobs or GET /v1/blobs/ID' }, requestId);
}
