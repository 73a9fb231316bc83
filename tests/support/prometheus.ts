import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { Cleanups } from './cleanups.js';
import { freePort } from './free-port.js';

/** Debian's Prometheus (apt package `prometheus`). */
const PROMETHEUS = '/usr/bin/prometheus';

/** An alert as Prometheus sends it to Alertmanager (its v2 API). */
export interface PostedAlert {
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
}

export interface TestPrometheus {
  /** Its HTTP API, e.g. `${url}/api/v1/query`. */
  readonly url: string;
  /** Every alert it has sent so far, oldest first. */
  readonly alerts: readonly PostedAlert[];
  /** The first alert of this name it sends (or has sent); rejected, naming those it did send, if none comes within timeoutMs. */
  nextAlert(name: string, timeoutMs: number): Promise<PostedAlert>;
  /** The value of an instant query's first sample, or undefined while it has none. */
  query(expr: string): Promise<number | undefined>;
}

async function listening(server: Server): Promise<number> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}

/** Where Prometheus sends its alerts: the endpoint of Alertmanager's it posts to, and nothing else. */
async function alertReceiver(cleanups: Cleanups): Promise<{ address: string; alerts: PostedAlert[]; posted: EventTarget }> {
  const alerts: PostedAlert[] = [];
  const posted = new EventTarget();
  const server = createServer((request, response) => {
    let body = '';
    request.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
    request.on('end', () => {
      if (request.method === 'POST' && request.url === '/api/v2/alerts') {
        alerts.push(...(JSON.parse(body) as PostedAlert[]));
        posted.dispatchEvent(new Event('alerts'));
      }
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  const port = await listening(server);
  cleanups.push(() => new Promise((resolve) => server.close(resolve)));
  return { address: `127.0.0.1:${port}`, alerts, posted };
}

/**
 * Prometheus on a free loopback port with these alerting rules, scraping `targets` as job="parley-relay" every second
 * and evaluating its rules as often; started once it says it is ready, stopped by the cleanups.
 */
export async function startPrometheus(cleanups: Cleanups, rulesPath: string, targets: readonly string[]): Promise<TestPrometheus> {
  const dir = await cleanups.tempDir('parley-prometheus-');
  const receiver = await alertReceiver(cleanups);
  const config = {
    global: { scrape_interval: '1s', evaluation_interval: '1s' },
    rule_files: [rulesPath],
    alerting: { alertmanagers: [{ api_version: 'v2', static_configs: [{ targets: [receiver.address] }] }] },
    scrape_configs: [{ job_name: 'parley-relay', static_configs: [{ targets }] }],
  };
  await writeFile(join(dir, 'prometheus.yml'), stringify(config));
  const port = await freePort();
  const child = spawn(PROMETHEUS, [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  cleanups.push(async () => {
    child.kill('SIGTERM');
    await exited;
  });
  let log = '';
  await new Promise<void>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`prometheus exited with ${code}:\n${log}`)));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      log += chunk;
      if (log.includes('Server is ready to receive web requests.')) resolve();
    });
  });
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    alerts: receiver.alerts,
    nextAlert: (name, timeoutMs) =>
      new Promise((resolve, reject) => {
        const look = (): boolean => {
          const alert = receiver.alerts.find((a) => a.labels.alertname === name);
          if (alert === undefined) return false;
          clearTimeout(timer);
          receiver.posted.removeEventListener('alerts', look);
          resolve(alert);
          return true;
        };
        const timer = setTimeout(() => {
          receiver.posted.removeEventListener('alerts', look);
          reject(new Error(`Prometheus sent no ${name} within ${timeoutMs} ms; it sent: ${JSON.stringify(receiver.alerts.map((a) => a.labels.alertname))}`));
        }, timeoutMs);
        if (!look()) receiver.posted.addEventListener('alerts', look);
      }),
    async query(expr) {
      const response = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(expr)}`);
      const body = (await response.json()) as { data: { result: Array<{ value: [number, string] }> } };
      const first = body.data.result[0];
      return first === undefined ? undefined : Number(first.value[1]);
    },
  };
}
