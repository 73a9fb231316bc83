import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { openCoreInWorker } from '../core/worker/open-core-in-worker.js';
import { attachBridge } from './bridge.js';
import { hostPort, securityHeaders } from './httpSecurity.js';
import { openRelockingCore } from './relockingCore.js';
import { createStaticHandler } from './staticFiles.js';

export interface DevhostOptions {
  profileDir: string;
  /** The built renderer (dist/renderer). */
  rendererDir: string;
  /** Loopback by default; the bridge gives full control of the profile to whoever holds the token. */
  host?: string;
  /** 0 picks a free port. */
  port: number;
  /** The relay onboarding offers while no profile exists. */
  defaultRelayUrl?: string;
  /** Where Settings writes backups and onboarding lists them to restore (default PROFILE/backups). */
  backupDir?: string;
}

export interface Devhost {
  /** http://HOST:PORT/#token=T: the page takes the token from the fragment, which never reaches a server log. */
  url: string;
  port: number;
  close(): Promise<void>;
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/** Serves the renderer to a browser and bridges window.parley to a core opened on profileDir; leaving the page locks the profile. */
export async function startDevhost(options: DevhostOptions): Promise<Devhost> {
  const host = options.host ?? '127.0.0.1';
  // The core runs in a worker thread, so the bridge keeps answering while SQL or key derivation runs.
  const core = await openRelockingCore(() => openCoreInWorker({ profileDir: options.profileDir, defaultRelayUrl: options.defaultRelayUrl, backupDir: options.backupDir }));
  const server = createServer();
  let port: number;
  try {
    port = await listen(server, options.port, host);
  } catch (error) {
    await core.close();
    throw error;
  }

  const address = hostPort(host, port);
  const origin = `http://${address}`;
  const token = randomBytes(32).toString('base64url');
  const headers = securityHeaders(`ws://${address}`);
  const serveStatic = createStaticHandler(options.rendererDir, headers);

  server.on('request', (req, res) => {
    if (req.headers.host !== address) {
      res.writeHead(421, { ...headers, 'Content-Type': 'text/plain; charset=utf-8' });
      res.end(`Open ${origin}/ instead.\n`);
      return;
    }
    serveStatic(req, res).catch((error: unknown) => {
      console.error('devhost: failed to serve', req.url, error instanceof Error ? error.message : error);
      if (!res.headersSent) res.writeHead(500, headers);
      res.end();
    });
  });
  server.on('clientError', (_error, socket) => socket.destroy());

  const relock = (): void => {
    core.relock().catch((error: unknown) => console.error('devhost: could not reopen the profile:', error instanceof Error ? error.message : error));
  };
  const bridge = attachBridge({ server, api: core.api, token, origin, host: address, onLastSocketClosed: relock });

  return {
    url: `${origin}/#token=${token}`,
    port,
    async close() {
      bridge.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await core.close();
    },
  };
}
