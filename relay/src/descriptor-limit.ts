import { readFileSync } from 'node:fs';

/** Descriptors kept for the relay's own files (its database, the blobs being sent or received, certificates, Node's own) beside its connections. */
export const RESERVED_DESCRIPTORS = 256;

/** maxConnections where this process's descriptor limit cannot be read (no /proc: macOS, Windows). */
export const FALLBACK_MAX_CONNECTIONS = 10_000;

/** The soft limit on open files in a /proc/PID/limits text; undefined if it is not there or is unlimited. */
export function parseOpenFilesLimit(limits: string): number | undefined {
  const match = /^Max open files\s+(\d+)\s/m.exec(limits);
  return match?.[1] === undefined ? undefined : Number(match[1]);
}

/** How many descriptors this process may open (Node raises its soft limit to the hard one as it starts); undefined where that cannot be read. */
export function openFilesLimit(): number | undefined {
  try {
    return parseOpenFilesLimit(readFileSync('/proc/self/limits', 'utf8'));
  } catch {
    return undefined;
  }
}
