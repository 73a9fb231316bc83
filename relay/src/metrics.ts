import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { RateLimitName } from './options.js';
import { processRegistry } from './process-metrics.js';
import type { CertificateFacts } from './tls.js';
import { relayVersion } from './version.js';

/** The relay's Prometheus metrics, in a registry of its own (several relays may share a process, as in tests). */
export interface RelayMetrics {
  readonly registry: Registry;
  readonly connections: Gauge;
  /** Count a frame received / sent, by its name (cheap: added to the counters at scrape time). */
  frameIn(type: string): void;
  frameOut(type: string): void;
  /** Seconds from an envelope's arrival to its recipient's ACK. */
  readonly deliveryLatency: Histogram;
  /** A connection was cut off, for this reason. */
  countCut(reason: CutReason): void;
  readonly purged: Counter;
  /** Writes refused because the disk or the database's cap was full. */
  readonly storageFull: Counter;
  /** A rate limit or cap refused something. */
  countLimited(name: CountedLimit): void;
  /** The relay stopped reading a client's socket for a while, for this reason. */
  countPaused(reason: PauseReason): void;
}

/** parley_rate_limited_total's `limit`: the rate limits, 'handshakes' (a socket past maxHandshakesPerIp), and caps by their option. */
export type CountedLimit = RateLimitName | 'handshakes' | 'maxConnections' | 'maxBlobTransfers' | 'maxBlobTransfersPerUser';

/** parley_connections_cut_total's `reason`. */
export type CutReason = 'idle' | 'slow_reader' | 'handshake_timeout' | 'blob_idle';

/** parley_reads_paused_total's `reason`: maxPipelinedFrames frames read and not yet handled, or a rate-limit refusal. */
export type PauseReason = 'backlog' | 'refusal';

// Every label value, so each series is served from the start at 0: Prometheus's increase() and rate() see no rise in a
// series that first appears with its count, and an alert on the first refusals would never fire. A Record, so the
// compiler names a value left out.
const COUNTED_LIMITS: Readonly<Record<CountedLimit, true>> = {
  connections: true,
  messages: true,
  registrations: true,
  totp: true,
  lookups: true,
  prekeyFetches: true,
  requests: true,
  http: true,
  handshakes: true,
  maxConnections: true,
  maxBlobTransfers: true,
  maxBlobTransfersPerUser: true,
};
const CUT_REASONS: Readonly<Record<CutReason, true>> = { idle: true, slow_reader: true, handshake_timeout: true, blob_idle: true };
const PAUSE_REASONS: Readonly<Record<PauseReason, true>> = { backlog: true, refusal: true };

/** A counter with one series per value of its label, each at 0 until counted. */
function labelledCounter<T extends string>(registers: Registry[], name: string, help: string, label: string, values: Readonly<Record<T, true>>): (value: T) => void {
  const counter = new Counter({ name, help, labelNames: [label], registers });
  for (const value of Object.keys(values)) counter.inc({ [label]: value }, 0);
  return (value) => counter.inc({ [label]: value });
}

/**
 * A per-frame counter by type. prom-client hashes the labels on every inc, so counts gather in a plain map and are
 * added to the counter when it is collected (every scrape and every read of the registry).
 */
function framesCounter(registers: Registry[], name: string, help: string): (type: string) => void {
  const pending = new Map<string, number>();
  new Counter({
    name,
    help,
    labelNames: ['type'],
    registers,
    collect() {
      for (const [type, count] of pending) if (count > 0) this.inc({ type }, count);
      pending.clear();
    },
  });
  return (type) => pending.set(type, (pending.get(type) ?? 0) + 1);
}

/** What the relay holds in memory between a push and its commit (HeldEnvelopes), read at scrape time. */
export interface HeldGauges {
  readonly size: number;
  readonly currentHoldMs: number;
}

const NOTHING_HELD: HeldGauges = { size: 0, currentHoldMs: 0 };

/**
 * What the storage gauges read at scrape time: an operator alerts on them before writes are refused. The blobs' bytes
 * are left to `relay:admin stats`: summing them reads every unexpired blob's row (6 ms for 100,000), on the event loop.
 */
export interface StorageGauges {
  databaseBytes(): number;
  /** Undefined when the disk cannot be asked. */
  diskFreeBytes(): number | undefined;
  /** maxDatabaseBytes; 0 (no cap) registers no gauge, so a ratio to it cannot divide by zero. */
  readonly maxDatabaseBytes: number;
}

/** Where the gauges read their values at scrape time, so they never drift from the database or the relay. */
export interface MetricSources {
  queueDepth(): number;
  readonly held?: HeldGauges;
  /** Left out: no storage gauges (a relay's parts tested alone). */
  readonly storage?: StorageGauges;
  /** The certificate served now, when the relay terminates TLS itself. */
  readonly tlsCertificate?: { readonly certificate: CertificateFacts };
  /** The TCP connections open to the relay's port, and maxConnections. */
  readonly sockets?: TcpConnectionGauges;
  /** Blob uploads and downloads in progress. */
  readonly blobTransfers?: { readonly inProgress: number };
}

export interface TcpConnectionGauges {
  readonly max: number;
  open(): Promise<number>;
}

function tcpConnectionGauges(registers: Registry[], sockets: TcpConnectionGauges): void {
  new Gauge({
    name: 'parley_tcp_connections',
    help: "TCP connections open to the relay's port: WebSocket clients, sockets before their first request, HTTP (what maxConnections caps)",
    registers,
    async collect() {
      this.set(await sockets.open());
    },
  });
  new Gauge({ name: 'parley_tcp_connections_max', help: 'maxConnections: past it, a new TCP connection is closed as it arrives', registers }).set(sockets.max);
}

function storageGauges(registers: Registry[], storage: StorageGauges): void {
  new Gauge({
    name: 'parley_database_bytes',
    help: "The relay database's size, pages in its write-ahead log included (what maxDatabaseBytes caps)",
    registers,
    collect() {
      this.set(storage.databaseBytes());
    },
  });
  if (storage.maxDatabaseBytes > 0) {
    new Gauge({ name: 'parley_database_max_bytes', help: 'maxDatabaseBytes: past it, writes are refused with STORAGE_FULL', registers }).set(storage.maxDatabaseBytes);
  }
  new Gauge({
    name: 'parley_disk_free_bytes',
    help: "Bytes the relay may still write on its data folder's disk",
    registers,
    collect() {
      const free = storage.diskFreeBytes();
      if (free !== undefined) this.set(free);
    },
  });
}

export function createMetrics({ queueDepth, held = NOTHING_HELD, storage, tlsCertificate, sockets, blobTransfers }: MetricSources): RelayMetrics {
  const registry = new Registry();
  const registers = [registry];
  if (storage !== undefined) storageGauges(registers, storage);
  if (sockets !== undefined) tcpConnectionGauges(registers, sockets);
  if (blobTransfers !== undefined) {
    new Gauge({
      name: 'parley_blob_transfers',
      help: 'Blob uploads and downloads in progress (what maxBlobTransfers caps)',
      registers,
      collect() {
        this.set(blobTransfers.inProgress);
      },
    });
  }
  // The build_info pattern: a constant 1 whose label says which release answers, to join with the other series.
  new Gauge({ name: 'parley_relay_info', help: 'Always 1; the version label is the Parley release the relay runs', labelNames: ['version'], registers }).set({ version: relayVersion() }, 1);
  if (tlsCertificate !== undefined) {
    new Gauge({
      name: 'parley_tls_certificate_expiry_timestamp_seconds',
      help: 'When the TLS certificate the relay serves expires, in seconds since the epoch (it is read again every tlsReloadIntervalMs and on SIGHUP)',
      registers,
      collect() {
        this.set(tlsCertificate.certificate.expiresAt / 1000);
      },
    });
  }
  new Gauge({
    name: 'parley_queue_depth',
    help: 'Envelopes waiting in all queues',
    registers,
    collect() {
      this.set(queueDepth());
    },
  });
  new Gauge({
    name: 'parley_held_envelopes',
    help: 'Envelopes pushed to online recipients and held in memory for their ACK, not yet stored',
    registers,
    collect() {
      this.set(held.size);
    },
  });
  new Gauge({
    name: 'parley_hold_seconds',
    help: 'How long a pushed envelope waits for its ACK before it is stored; it stretches while recipients ack later',
    registers,
    collect() {
      this.set(held.currentHoldMs / 1000);
    },
  });
  const metrics: Omit<RelayMetrics, 'registry'> = {
    connections: new Gauge({ name: 'parley_connections', help: 'Open WebSocket connections', registers }),
    frameIn: framesCounter(registers, 'parley_frames_in_total', 'Frames received, by type'),
    frameOut: framesCounter(registers, 'parley_frames_out_total', 'Frames sent, by type'),
    deliveryLatency: new Histogram({
      name: 'parley_delivery_latency_seconds',
      help: 'Time from an envelope reaching the relay to its recipient acknowledging it',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1, 5, 60, 3600, 86_400],
      registers,
    }),
    countCut: labelledCounter(registers, 'parley_connections_cut_total', 'Connections the relay cut off, by reason', 'reason', CUT_REASONS),
    purged: new Counter({ name: 'parley_envelopes_purged_total', help: 'Envelopes dropped unread by age or ttl', registers }),
    storageFull: new Counter({ name: 'parley_storage_full_total', help: 'Writes refused because the disk or maxDatabaseBytes was full', registers }),
    countLimited: labelledCounter(registers, 'parley_rate_limited_total', 'Actions refused by a rate limit or connection cap', 'limit', COUNTED_LIMITS),
    countPaused: labelledCounter(registers, 'parley_reads_paused_total', "Times the relay stopped reading a client's socket for a while, by reason", 'reason', PAUSE_REASONS),
  };
  // Merged last, once every metric of the relay's own is registered.
  return { ...metrics, registry: Registry.merge([registry, processRegistry()]) };
}
