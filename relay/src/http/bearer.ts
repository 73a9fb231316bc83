import type { IncomingMessage, ServerResponse } from 'node:http';

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
