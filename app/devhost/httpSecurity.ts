import { createHash, timingSafeEqual } from 'node:crypto';
import { rendererContentSecurityPolicy } from '../shared/web-serving.js';

/** Headers on every devhost response: the renderer runs under the same strict CSP Electron gives it. */
export function securityHeaders(bridgeOrigin: string): Record<string, string> {
  const csp = rendererContentSecurityPolicy(bridgeOrigin);
  return {
    'Content-Security-Policy': csp,
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Cross-Origin-Resource-Policy': 'same-origin',
  };
}

/** Compares digests so neither the content nor the length of the secret leaks through timing. */
export function tokenMatches(expected: string, given: string): boolean {
  const digest = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest();
  return timingSafeEqual(digest(expected), digest(given));
}

/** host:port as it appears in a URL and in the Host header (IPv6 literals in brackets). */
export function hostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
