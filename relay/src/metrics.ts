import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { RateLimitName } from './options.js';

/** The relay's Prometheus metrics, in a registry of its own (several relays may share a process, as in tests). */
export interface RelayMetrics {
  readonly registry: Registry;
  readonly connections: Gauge;
  readonly framesIn: Counter<'type'>;
  readonly framesOut: Counter<'type'>;
  /** Seconds from an envelope's arrival to its recipient's ACK. */
  readonly deliveryLatency: Histogram;
  readonly rateLimited: Counter<'limit'>;
  readonly cutOff: Counter<'reason'>;
  readonly purged: Counter;
  countLimited(name: RateLimitName): void;
}

/** queueDepth is read at scrape time, so the gauge never drifts from the database. */
export function createMetrics(queueDepth: () => number): RelayMetrics {
  const registry = new Registry();
  const registers = [registry];
  new Gauge({
    name: 'parley_queue_depth',
    help: 'Envelopes waiting in all queues',
    registers,
    collect() {
      this.set(queueDepth());
    },
  });
  const rateLimited = new Counter({
    name: 'parley_rate_limited_total',
    help: 'Actions refused by a rate limit or connection cap',
    labelNames: ['limit'],
    registers,
  });
  return {
    registry,
    connections: new Gauge({ name: 'parley_connections', help: 'Open WebSocket connections', registers }),
    framesIn: new Counter({ name: 'parley_frames_in_total', help: 'Frames received, by type', labelNames: ['type'], registers }),
    framesOut: new Counter({ name: 'parley_frames_out_total', help: 'Frames sent, by type', labelNames: ['type'], registers }),
    deliveryLatency: new Histogram({
      name: 'parley_delivery_latency_seconds',
      help: 'Time from an envelope reaching the relay to its recipient acknowledging it',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1, 5, 60, 3600, 86_400],
      registers,
    }),
    rateLimited,
    cutOff: new Counter({
      name: 'parley_connections_cut_total',
      help: 'Connections the relay cut off, by reason',
      labelNames: ['reason'],
      registers,
    }),
    purged: new Counter({ name: 'parley_envelopes_purged_total', help: 'Envelopes dropped unread by age or ttl', registers }),
    countLimited: (name) => rateLimited.inc({ limit: name }),
  };
}
