import { readFile } from 'node:fs/promises';
import { extname, isAbsolute, relative, resolve, sep } from 'node:path';
import type { Protocol } from 'electron';
import { rendererContentSecurityPolicy, rendererContentType } from '../shared/web-serving.js';

export const APP_SCHEME = 'app';
export const APP_HOST = 'parley';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;
export const APP_INDEX_URL = `${APP_ORIGIN}/index.html`;

/** Sent with every response of the app scheme: the renderer may load only its own files and talk to nothing. */
export const CONTENT_SECURITY_POLICY = rendererContentSecurityPolicy("'none'");

/** The privileges the app scheme needs; must be registered before the app is ready. */
export const APP_SCHEME_PRIVILEGES = {
  scheme: APP_SCHEME,
  privileges: { standard: true, secure: true, supportFetchAPI: true, codeCache: true },
} as const;

export function isAppUrl(url: string): boolean {
  return url.startsWith(`${APP_ORIGIN}/`);
}

export function contentTypeFor(filePath: string): string {
  return rendererContentType(extname(filePath));
}

function respond(status: number, body: Uint8Array | string, contentType: string): Response {
  return new Response(body, {
    status,
    headers: {
      'Content-Type': contentType,
      'Content-Security-Policy': CONTENT_SECURITY_POLICY,
      'X-Content-Type-Options': 'nosniff',
      'Cross-Origin-Opener-Policy': 'same-origin',
      'Referrer-Policy': 'no-referrer',
    },
  });
}

const textError = (status: number, text: string): Response => respond(status, text, 'text/plain; charset=utf-8');

/** Map a request path to a file under rootDir, or null when it would leave rootDir or is malformed. */
export function resolveAppPath(rootDir: string, pathname: string): string | null {
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    return null;
  }
  if (decoded.includes('\0')) return null;
  const wanted = decoded === '/' || decoded === '' ? '/index.html' : decoded;
  const root = resolve(rootDir);
  const target = resolve(root, `.${wanted.startsWith('/') ? wanted : `/${wanted}`}`);
  const inside = relative(root, target);
  if (inside === '' || inside.startsWith(`..${sep}`) || inside === '..' || isAbsolute(inside)) return null;
  return target;
}

/** Serve one request of the app scheme from rootDir (the built renderer). */
export async function handleAppRequest(rootDir: string, request: Request): Promise<Response> {
  let url: URL;
  try {
    url = new URL(request.url);
  } catch {
    return textError(400, 'Bad request');
  }
  if (url.protocol !== `${APP_SCHEME}:` || url.host !== APP_HOST) return textError(404, 'Not found');
  if (request.method !== 'GET' && request.method !== 'HEAD') return textError(405, 'Method not allowed');
  const filePath = resolveAppPath(rootDir, url.pathname);
  if (filePath === null) return textError(403, 'Forbidden');
  try {
    const body = await readFile(filePath);
    return respond(200, request.method === 'HEAD' ? '' : body, contentTypeFor(filePath));
  } catch {
    return textError(404, 'Not found');
  }
}

/** Route the app scheme to the built renderer in rootDir. */
export function serveRenderer(protocol: Pick<Protocol, 'handle'>, rootDir: string): void {
  protocol.handle(APP_SCHEME, (request) => handleAppRequest(rootDir, request));
}
