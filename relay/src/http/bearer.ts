import type { IncomingMessage, ServerResponse } from 'node:http';
import type { HttpError } from '../../protocol/http-errors.js';
import type { RelayStore } from '../store/ports.js';
import type { TokenService } from '../tokens.js';

/** The token of an `Authorization: Bearer TOKEN` header, or undefined. */
export function bearerToken(request: IncomingMessage): string | undefined {
  const header = request.headers.authorization;
  if (header === undefined) return undefined;
  const match = /^Bearer\s+([A-Za-z0-9._~+/=-]+)\s*$/i.exec(header);
  return match?.[1];
}

export function sendJson(response: ServerResponse, status: number, body: unknown, requestId: string): void {
  response.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', 'x-request-id': requestId });
  response.end(JSON.stringify(body));
}

/** An error answer: its code one of the API's stable ones (docs/PROTOCOL.md lists them). */
export function sendError(response: ServerResponse, status: number, error: HttpError, requestId: string): void {
  sendJson(response, status, error, requestId);
}

/** The username of a request's valid Bearer token; otherwise the 401 (or 403 for a banned user) is sent and undefined returned. */
export async function authorize(
  request: IncomingMessage,
  response: ServerResponse,
  requestId: string,
  deps: { readonly tokens: TokenService; readonly store: RelayStore },
): Promise<string | undefined> {
  const check = await deps.tokens.verify(bearerToken(request));
  if (!check.ok) {
    response.setHeader('www-authenticate', `Bearer error="invalid_token", error_description="${check.code}"`);
    sendError(response, 401, { code: check.code, message: check.message }, requestId);
    return undefined;
  }
  if (deps.store.users.bannedAt(check.username) !== undefined) {
    sendError(response, 403, { code: 'AUTH_BANNED', message: 'this account has been banned' }, requestId);
    return undefined;
  }
  return check.username;
}
