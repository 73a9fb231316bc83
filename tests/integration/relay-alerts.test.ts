import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { get } from 'node:https';
import { connect, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { selfSignedCertificate } from '../support/certificate.js';
import { useCleanups } from '../support/cleanups.js';
import { startPrometheus } from '../support/prometheus.js';
import { startTestRelay } from '../support/relay.js';

const cleanups = useCleanups();
const docs = (name: string): string => readFileSync(new URL(`../../docs/${name}`, import.meta.url), 'utf8');
const RULES_PATH = fileURLToPath(new URL('../../docs/relay-alerts.yml', import.meta.url));

interface Rule {
  readonly alert: string;
  readonly expr: string;
  readonly labels: { readonly severity: string };
  readonly annotations: { readonly summary: string };
}

function httpsText(url: string, ca: Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    get(url, { ca, agent: false }, (response) => {
      let body = '';
      response.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve(body));
    }).on('error', reject);
  });
}

/** Every series name /metrics can serve, read from its TYPE lines (a series with no samples yet still has one). */
async function servedSeries(): Promise<Set<string>> {
  const dir = await cleanups.tempDir('parley-alerts-');
  const { certPath, keyPath } = selfSignedCertificate(dir, 'parley-alerts', { subjectAltName: 'IP:127.0.0.1' });
  // TLS and a database cap: the gauges registered only with them are served too.
  const relay = await startTestRelay({ tlsCertPath: certPath, tlsKeyPath: keyPath, maxDatabaseBytes: 64 * 1024 * 1024 });
  cleanups.push(() => relay.close());
  const text = await httpsText(`https://127.0.0.1:${relay.port}/metrics`, readFileSync(certPath));
  const series = new Set<string>();
  for (const [, name, type] of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    if (name === undefined) continue;
    if (type === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) series.add(name + suffix);
    else series.add(name);
  }
  return series;
}

describe('the relay alerting rules (docs/relay-alerts.yml)', () => {
  it('name only series the relay serves, each rule with a severity and a summary; RELAY.md documents every metric', async () => {
    const file = parse(docs('relay-alerts.yml')) as { groups: Array<{ name: string; rules: Rule[] }> };
    const rules = file.groups.flatMap((group) => group.rules);
    expect(rules.length).toBeGreaterThanOrEqual(8);
    const served = await servedSeries();
    for (const rule of rules) {
      expect(rule.alert, JSON.stringify(rule)).toMatch(/^Parley[A-Za-z]+$/);
      expect(['critical', 'warning', 'info']).toContain(rule.labels.severity);
      expect(rule.annotations.summary).not.toBe('');
      for (const [name] of rule.expr.matchAll(/\b(?:parley|process|nodejs)_[a-z0-9_]+/g)) expect(served, `${rule.alert} names ${name}`).toContain(name);
    }
    // The table in RELAY.md has a row for every metric of the relay's own, histograms by their own name, and one for Node's.
    const documented = docs('RELAY.md');
    expect(served).toContain('process_open_fds');
    expect(served).toContain('nodejs_heap_size_used_bytes');
    expect(documented).toMatch(/^\| `process_\*`, `nodejs_\*` \|/m);
    const metricNames = new Set([...served].filter((name) => name.startsWith('parley_')).map((name) => (served.has(name.replace(/_(bucket|sum|count)$/, '_bucket')) ? name.replace(/_(bucket|sum|count)$/, '') : name)));
    for (const name of metricNames) expect(documented, `RELAY.md documents ${name}`).toMatch(new RegExp(`^\\| \`${name}(\\{[a-z,]+\\})?\` \\|`, 'm'));
  });

  it("parse as Prometheus's own tool reads them (promtool, from Debian's prometheus)", () => {
    const rules = (parse(docs('relay-alerts.yml')) as { groups: Array<{ rules: Rule[] }> }).groups.flatMap((group) => group.rules);
    const checked = spawnSync('promtool', ['check', 'rules', RULES_PATH], { encoding: 'utf8' });
    expect(checked.stderr).toBe('');
    expect(checked.stdout).toContain(`SUCCESS: ${rules.length} rules found`);
    expect(checked.status).toBe(0);
  });

  it('fire in a real Prometheus scraping a relay: one burst of refused connections raises ParleyConnectionsRefused', { timeout: 60_000 }, async () => {
    const relay = await startTestRelay({ maxConnections: 2 });
    cleanups.push(() => relay.close());
    const instance = `127.0.0.1:${relay.port}`;
    const prometheus = await startPrometheus(cleanups, RULES_PATH, [instance]);
    // Scraped once before the refusals, so their rise from the 0 served then is what the rule sees.
    while ((await prometheus.query(`up{instance="${instance}"}`)) !== 1) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }

    // Three sockets where two fit: the relay closes one as it arrives (a scrape may take a place too, and then two).
    const sockets: Socket[] = [];
    const refused = new Promise<void>((resolve) => {
      for (let i = 0; i < 3; i++) {
        const socket = connect(relay.port, '127.0.0.1');
        socket.on('error', () => undefined).on('close', () => resolve());
        sockets.push(socket);
      }
    });
    await refused;
    for (const socket of sockets) socket.destroy();

    const alert = await prometheus.nextAlert('ParleyConnectionsRefused', 30_000);
    expect(alert.labels).toMatchObject({ alertname: 'ParleyConnectionsRefused', severity: 'critical', job: 'parley-relay', instance });
    expect(alert.annotations.summary).toBe(`Parley relay ${instance} closed new connections: it holds maxConnections already`);
  });
});

