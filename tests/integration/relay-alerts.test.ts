import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { get } from 'node:https';
import { connect, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
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
  readonly annotations: { readonly summary: string } & Readonly<Record<string, string>>;
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

  it('fire as RELAY.md describes them, each only past its threshold and its wait, in promtool\'s simulated time', async () => {
    const rules = (parse(docs('relay-alerts.yml')) as { groups: Array<{ rules: Rule[] }> }).groups.flatMap((group) => group.rules);
    // One relay's series, a minute apart: `a+bxN` is a, then N more values b apart.
    const on = (series: string): string => `${series.replace(/\}$/, ', ')}job="parley-relay", instance="relay:7733"}`.replace('{, ', '{');
    const series = (name: string, values: string) => ({ series: on(name.includes('{') ? name : `${name}{}`), values });
    const fires = (alertname: string, at: string, extra: Record<string, string> = {}, kept = ['job', 'instance']) => {
      const labels: Record<string, string> = Object.fromEntries(Object.entries({ job: 'parley-relay', instance: 'relay:7733' }).filter(([name]) => kept.includes(name)));
      Object.assign(labels, extra);
      const rule = rules.find((r) => r.alert === alertname);
      // The annotations as an operator reads them: each {{ $labels.NAME }} filled in.
      const annotations = Object.fromEntries(Object.entries(rule?.annotations ?? {}).map(([key, text]) => [key, text.replace(/\{\{ \$labels\.([a-z]+) \}\}/g, (_, name: string) => labels[name] ?? '')]));
      return { eval_time: at, alertname, exp_alerts: [{ exp_labels: { severity: rule?.labels.severity ?? 'none', ...labels }, exp_annotations: annotations }] };
    };
    const quiet = (alertname: string, at: string) => ({ eval_time: at, alertname, exp_alerts: [] });
    const cases = [
      // Down for two minutes, not one.
      { input: [series('up', '0x5')], tests: [quiet('ParleyRelayDown', '1m'), fires('ParleyRelayDown', '3m')] },
      // Any write refused for want of space.
      { input: [series('parley_storage_full_total', '0 0 1 1 1')], tests: [quiet('ParleyStorageFull', '1m'), fires('ParleyStorageFull', '3m')] },
      // Over 90% of the cap for ten minutes; with no cap (no max series), never.
      { input: [series('parley_database_bytes', '950x15'), series('parley_database_max_bytes', '1000x15')], tests: [quiet('ParleyDatabaseNearCap', '9m'), fires('ParleyDatabaseNearCap', '11m')] },
      { input: [series('parley_database_bytes', '950x15')], tests: [quiet('ParleyDatabaseNearCap', '12m')] },
      { input: [series('parley_database_bytes', '850x15'), series('parley_database_max_bytes', '1000x15')], tests: [quiet('ParleyDatabaseNearCap', '12m')] },
      // Under 1 GB free for ten minutes.
      { input: [series('parley_disk_free_bytes', '900000000x15')], tests: [quiet('ParleyDiskLow', '9m'), fires('ParleyDiskLow', '11m')] },
      { input: [series('parley_disk_free_bytes', '2000000000x15')], tests: [quiet('ParleyDiskLow', '12m')] },
      // A certificate ending within 14 days, for an hour (time() starts at 0 here); one with 15 days left does not.
      { input: [series('parley_tls_certificate_expiry_timestamp_seconds', `${13 * 86_400}x90`)], tests: [quiet('ParleyTlsCertificateExpiring', '50m'), fires('ParleyTlsCertificateExpiring', '70m')] },
      { input: [series('parley_tls_certificate_expiry_timestamp_seconds', `${15 * 86_400 + 7_200}x90`)], tests: [quiet('ParleyTlsCertificateExpiring', '80m')] },
      // Over 90% of maxConnections for ten minutes.
      { input: [series('parley_tcp_connections', '95x15'), series('parley_tcp_connections_max', '100x15')], tests: [quiet('ParleyConnectionsNearCap', '9m'), fires('ParleyConnectionsNearCap', '11m')] },
      // A connection refused at the cap, from the 0 the relay serves before any (without it, no rise is seen).
      { input: [series('parley_rate_limited_total{limit="maxConnections"}', '0 0 3 3 3')], tests: [quiet('ParleyConnectionsRefused', '1m'), fires('ParleyConnectionsRefused', '3m', { limit: 'maxConnections' })] },
      { input: [series('parley_rate_limited_total{limit="maxConnections"}', '3 3 3 3 3')], tests: [quiet('ParleyConnectionsRefused', '3m')] },
      // 10,000 more envelopes queued than delivered within an hour.
      { input: [series('parley_queue_depth', '0+200x70')], tests: [quiet('ParleyQueuesGrowing', '40m'), fires('ParleyQueuesGrowing', '65m')] },
      // Over one refusal a second, by limit, for fifteen minutes (summed by instance and limit: no job label).
      { input: [series('parley_rate_limited_total{limit="messages"}', '0+120x40')], tests: [quiet('ParleyRateLimitedSurge', '10m'), fires('ParleyRateLimitedSurge', '25m', { limit: 'messages' }, ['instance'])] },
      { input: [series('parley_rate_limited_total{limit="messages"}', '0+30x40')], tests: [quiet('ParleyRateLimitedSurge', '30m')] },
      // The event loop over 90% busy for ten minutes.
      { input: [series('parley_event_loop_utilization', '0.95x15')], tests: [quiet('ParleyRelaySaturated', '9m'), fires('ParleyRelaySaturated', '11m')] },
      // The hold at its longest (0.2 s by default) for fifteen minutes.
      { input: [series('parley_hold_seconds', '0.2x20')], tests: [quiet('ParleyRelayBusy', '14m'), fires('ParleyRelayBusy', '16m')] },
      { input: [series('parley_hold_seconds', '0.1x20')], tests: [quiet('ParleyRelayBusy', '19m')] },
    ];
    // Every rule has a case that fires it.
    expect(new Set(cases.flatMap((c) => c.tests.filter((t) => t.exp_alerts.length > 0).map((t) => t.alertname)))).toEqual(new Set(rules.map((rule) => rule.alert)));
    const dir = await cleanups.tempDir('parley-promtool-');
    const testFile = join(dir, 'relay-alerts.test.yml');
    await writeFile(testFile, stringify({ rule_files: [RULES_PATH], evaluation_interval: '1m', tests: cases.map((c) => ({ interval: '1m', input_series: c.input, alert_rule_test: c.tests })) }));
    const tested = spawnSync('promtool', ['test', 'rules', testFile], { encoding: 'utf8' });
    expect(tested.stdout + tested.stderr).toContain('SUCCESS');
    expect(tested.status, tested.stdout + tested.stderr).toBe(0);
  });
});

