import { readFile, realpath, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { rendererContentType } from '../shared/web-serving.js';

type Headers = Record<string, string>;

function send(res: ServerResponse, status: number, headers: Headers, body: Buffer | string, method: string): void {
  res.writeHead(status, { ...headers, 'Content-Length': Buffer.byteLength(body) });
  res.end(method === 'HEAD' ? undefined : body);
}

function isInside(root: string, candidate: string): boolean {
  const relative = path.relative(root, candidate);
  return relative === '' || (!relative.startsWith('..') && !path.isAbsolute(relative));
}

async function regularFile(file: string): Promise<boolean> {
  try {
    return (await stat(file)).isFile();
  } catch {
    return false;
  }
}

/** The file a URL path names inside root, or null; refuses anything that resolves outside root. */
async function resolveFile(root: string, urlPath: string): Promise<string | null> {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return null;
  }
  if (decoded.includes('\0')) return null;
  const candidate = path.resolve(root, `.${path.posix.normalize(decoded)}`);
  if (!isInside(root, candidate) || !(await regularFile(candidate))) return null;
  // A symlink inside root may still point outside it.
  return isInside(root, await realpath(candidate)) ? candidate : null;
}

/**
 * Serves the built renderer from rootDir: GET/HEAD only, no directory listings, no way out of rootDir.
 * Paths without a file extension fall back to index.html; missing assets are 404s.
 */
export function createStaticHandler(rootDir: string, headers: Headers): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const rootPromise = realpath(rootDir);
  return async (req, res) => {
    const method = req.method ?? 'GET';
    if (method !== 'GET' && method !== 'HEAD') {
      send(res, 405, { ...headers, Allow: 'GET, HEAD', 'Content-Type': 'text/plain; charset=utf-8' }, 'Method not allowed\n', method);
      return;
    }
    const root = await rootPromise;
    const urlPath = new URL(req.url ?? '/', 'http://devhost.invalid').pathname;
    let file = urlPath === '/' ? path.join(root, 'index.html') : await resolveFile(root, urlPath);
    if (file === null && path.posix.extname(urlPath) === '') file = path.join(root, 'index.html');
    if (file === null) {
      send(res, 404, { ...headers, 'Content-Type': 'text/plain; charset=utf-8' }, 'Not found\n', method);
      return;
    }
    const body = await readFile(file);
    const contentType = rendererContentType(path.extname(file));
    send(res, 200, { ...headers, 'Content-Type': contentType, 'Cache-Control': 'no-cache' }, body, method);
  };
}
