// Benchmark child: a relay with the given options; prints its url, stops on SIGTERM.
// Started with --expose-gc, it collects garbage on SIGUSR2 and prints "gc HEAP_USED", so memory is read without garbage in it.
import { startRelay, type RelayOptions } from '../../relay/src/server.js';

const options = JSON.parse(process.argv[2] ?? '{}') as RelayOptions;
const relay = await startRelay({ ...options, logLevel: 'silent' });
process.stdout.write(`${relay.url}\n`);
process.once('SIGTERM', () => {
  void relay.close().then(() => process.exit(0));
});
process.on('SIGUSR2', () => {
  const collect = (globalThis as { gc?: () => void }).gc;
  collect?.();
  collect?.();
  // The JS heap in use beside it, so the benchmark can tell the relay's objects from native memory.
  process.stdout.write(`gc ${process.memoryUsage().heapUsed}\n`);
});
