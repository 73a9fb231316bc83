/** What every host that serves the renderer's files agrees on: content types and the CSP. */

export const RENDERER_CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.txt': 'text/plain; charset=utf-8',
};

/** Content type by lowercase file extension (with the dot); unknown files are opaque bytes. */
export function rendererContentType(extension: string): string {
  return RENDERER_CONTENT_TYPES[extension.toLowerCase()] ?? 'application/octet-stream';
}

/**
 * The renderer's CSP: it may load only its own files. `connectSrc` is 'none' in Electron (IPC is not a
 * network request) and the bridge's own ws:// origin in the devhost.
 */
export function rendererContentSecurityPolicy(connectSrc: string): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    `connect-src ${connectSrc}`,
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}
