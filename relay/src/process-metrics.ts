import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import { Gauge, Registry } from 'prom-client';
import heapSizeAndUsed from 'prom-client/lib/metrics/heapSizeAndUsed.js';
import osMemoryHeap from 'prom-client/lib/metrics/osMemoryHeap.js';
import processCpuTotal from 'prom-client/lib/metrics/processCpuTotal.js';
import processMaxFileDescriptors from 'prom-client/lib/metrics/processMaxFileDescriptors.js';
import processOpenFileDescriptors from 'prom-client/lib/metrics/processOpenFileDescriptors.js';
import processStartTime from 'prom-client/lib/metrics/processStartTime.js';
import version from 'prom-client/lib/metrics/version.js';

/**
 * prom-client's default metrics that are read at scrape time: CPU, memory, descriptors, heap, Node's version. Its
 * event-loop-delay histogram (a timer every 10 ms) and GC histogram (an observer of every collection) are left out:
 * with them the relay spent 3-4% more CPU a message at 1 pair (bench:relay-ab). Event-loop utilization stands in for
 * the delay: libuv counts the loop's idle time anyway, so it costs nothing between scrapes.
 */
function register(registry: Registry): void {
  for (const metric of [processCpuTotal, processStartTime, osMemoryHeap, processOpenFileDescriptors, processMaxFileDescriptors, heapSizeAndUsed, version]) {
    metric(registry);
  }
  let since: EventLoopUtilization = performance.eventLoopUtilization();
  new Gauge({
    name: 'parley_event_loop_utilization',
    help: "Share of the time since the last scrape the relay's event loop was busy (0 to 1; near 1, work waits for it)",
    registers: [registry],
    collect() {
      const now = performance.eventLoopUtilization();
      this.set(performance.eventLoopUtilization(now, since).utilization);
      since = now;
    },
  });
}

let processMetrics: Registry | undefined;

/** The process's metrics, made once per process: relays that share one (tests) share them. */
export function processRegistry(): Registry {
  if (processMetrics === undefined) {
    processMetrics = new Registry();
    register(processMetrics);
  }
  return processMetrics;
}
