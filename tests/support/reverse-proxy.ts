import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { existsSync, watch } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { Certificate } from './certificate.js';
import type { Cleanups } from './cleanups.js';
import { freePort } from './free-port.js';
import { relayDocBlock } from './relay-docs.js';

/** A reverse proxy in front of a relay, as docs/RELAY.md configures it: TLS on 127.0.0.1:port. */
export interface ReverseProxy {
  readonly port: number;
}

/** `text` with `from` replaced by `to`; throws if the documented text no longer has it, so a changed example is noticed. */
function replaced(text: string, from: string, to: string): string {
  if (!text.includes(from)) throw new Error(`the documented configuration no longer contains ${JSON.stringify(from)}`);
  return text.replace(from, to);
}

/** Stop the child with the cleanups; reject if it exits before `ready` settles. */
async function supervised(cleanups: Cleanups, child: ChildProcessByStdio<null, null, Readable>, ready: (output: () => string) => Promise<void>): Promise<void> {
  let output = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  cleanups.push(async () => {
    child.kill('SIGTERM');
    await exited;
  });
  await Promise.race([
    ready(() => output),
    exited.then((code) => Promise.reject(new Error(`${child.spawnfile} exited with ${code}:\n${output}`))),
    new Promise((_, reject) => child.once('error', reject)),
  ]);
}

/**
 * Debian's nginx serving RELAY.md's server block: its own port and certificate, the relay's port; the rest as written,
 * unless `edit` changes it (shorter timeouts, say).
 */
export async function startNginx(cleanups: Cleanups, relayPort: number, certificate: Certificate, edit: (server: string) => string = (server) => server): Promise<ReverseProxy> {
  const dir = await cleanups.tempDir('parley-nginx-');
  const port = await freePort();
  let server = edit(relayDocBlock('\n### nginx\n'));
  server = replaced(server, 'listen 443 ssl;', `listen 127.0.0.1:${port} ssl;`);
  server = replaced(server, '/etc/letsencrypt/live/chat.example.org/fullchain.pem', certificate.certPath);
  server = replaced(server, '/etc/letsencrypt/live/chat.example.org/privkey.pem', certificate.keyPath);
  server = replaced(server, 'proxy_pass http://127.0.0.1:7733;', `proxy_pass http://127.0.0.1:${relayPort};`);
  // One process in the foreground, everything it writes in the test's folder.
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((kind) => `  ${kind}_temp_path ${join(dir, kind)};`).join('\n');
  const config = `daemon off;\nmaster_process off;\npid ${join(dir, 'nginx.pid')};\nerror_log stderr warn;\nevents {}\nhttp {\n  access_log off;\n${temp}\n${server}}\n`;
  await writeFile(join(dir, 'nginx.conf'), config);
  const child = spawn('/usr/sbin/nginx', ['-p', dir, '-e', 'stderr', '-c', join(dir, 'nginx.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
  // nginx opens its listening socket before it writes its pid file.
  await supervised(cleanups, child, () => created(dir, 'nginx.pid'));
  return { port };
}

/** Debian's Caddy serving RELAY.md's Caddyfile: its own address and certificate (no ACME), the relay's port; the rest as written. */
export async function startCaddy(cleanups: Cleanups, relayPort: number, certificate: Certificate): Promise<ReverseProxy> {
  const dir = await cleanups.tempDir('parley-caddy-');
  const port = await freePort();
  let site = relayDocBlock('\n### Caddy\n');
  site = replaced(site, 'chat.example.org {', `https://127.0.0.1:${port} {\n\ttls ${certificate.certPath} ${certificate.keyPath}`);
  site = replaced(site, 'reverse_proxy 127.0.0.1:7733', `reverse_proxy 127.0.0.1:${relayPort}`);
  // No admin endpoint, no port-80 redirect listener: two Caddys in one test run must not collide.
  const config = `{\n\tadmin off\n\tauto_https disable_redirects\n\tskip_install_trust\n}\n\n${site}`;
  await writeFile(join(dir, 'Caddyfile'), config);
  const child = spawn('/usr/bin/caddy', ['run', '--config', join(dir, 'Caddyfile'), '--adapter', 'caddyfile'], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { PATH: process.env.PATH ?? '', HOME: dir, XDG_DATA_HOME: join(dir, 'data'), XDG_CONFIG_HOME: join(dir, 'config') },
  });
  await supervised(cleanups, child, (output) => logged(child.stderr, output, '"msg":"serving initial configuration"'));
  return { port };
}

/** Settles once `name` exists in `dir`. */
function created(dir: string, name: string): Promise<void> {
  return new Promise((resolve) => {
    const watcher = watch(dir, () => {
      if (existsSync(join(dir, name))) {
        watcher.close();
        resolve();
      }
    });
    if (existsSync(join(dir, name))) {
      watcher.close();
      resolve();
    }
  });
}

/** Settles once the stream's output so far contains `text`. */
function logged(stream: Readable, output: () => string, text: string): Promise<void> {
  return new Promise((resolve) => {
    const look = (): void => {
      if (!output().includes(text)) return;
      stream.off('data', look);
      resolve();
    };
    stream.on('data', look);
    look();
  });
}
