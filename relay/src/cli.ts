import { readFileSync } from 'node:fs';
import { ConfigError, loadConfig, usage } from './config.js';
import { describeError } from './log.js';
import { createLog, loadUsernameSalt } from './logger.js';
import { startRelay } from './server.js';

async function main(): Promise<void> {
  let loaded;
  try {
    loaded = loadConfig(process.argv.slice(2), process.env, (path) => readFileSync(path, 'utf8'));
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(`relay: ${error.message} (see --help)`);
    process.exitCode = 2;
    return;
  }
  if (loaded.help) {
    console.log(usage());
    return;
  }
  const { options } = loaded;
  const log = createLog({
    level: options.logLevel ?? 'info',
    usernameSalt: options.hashUsernames === true ? loadUsernameSalt(options.dataDir) : undefined,
  });
  let relay;
  try {
    relay = await startRelay(options, { log });
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
    console.error(`relay: ${error.message} (see --help)`);
    process.exitCode = 2;
    return;
  }
  console.log(`listening on ${relay.url}`);

  const stop = (signal: NodeJS.Signals): void => {
    log('relay_stopping', { signal });
    relay.close().then(
      () => log('relay_stopped'),
      (error: unknown) => {
        log('relay_stop_failed', describeError(error));
        process.exitCode = 1;
      },
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error: unknown) => {
  console.error(`relay: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
