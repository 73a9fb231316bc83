// Benchmark child: a relay with the given options; prints its url, stops on SIGTERM.
import { startRelay, type RelayOptions } from '../../relay/src/server.js';

const options = JSON.parse(process.argv[2] ?? '{}') as RelayOptions;
const relay = await startRelay({ ...options, logLevel: 'silent' });
process.stdout.write(`${relay.url}\n`);
process.once('SIGTERM', () => {
  void relay.close().then(() => process.exit(0));
});
