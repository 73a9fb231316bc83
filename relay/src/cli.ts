import { readFileSync } from 'node:fs';
import { checkConfig, type ConfigCheck } from './check.js';
import { ConfigError, loadConfig, usage } from './config.js';
import { describeError } from './log.js';
import { createLog, loadUsernameSalt } from './logger.js';
import { startRelay, type RelayHandle } from './server.js';
import { relayVersion } from './version.js';

/** Facts on stdout, problems on stderr; exit status 2 when there is a problem, as a start would have. */
function printCheck({ facts, problems }: ConfigCheck): number {
  for (const problem of problems) console.error(`relay: ${problem}`);
  const width = Math.max(0, ...facts.map(([label]) => label.length));
  console.log([problems.length === 0 ? 'configuration OK' : `configuration has ${problems.length} problem${problems.length === 1 ? '' : 's'}`, ...facts.map(([label, value]) => `  ${label.padEnd(width)}  ${value}`)].join('\n'));
  return problems.length === 0 ? 0 : 2;
}

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
  if (loaded.version) {
    console.log(`parley-relay ${relayVersion()}`);
    return;
  }
  const { options } = loaded;
  if (loaded.check) {
    process.exitCode = printCheck(await checkConfig(options));
    return;
  }
  const log = createLog({
    level: options.logLevel ?? 'info',
    usernameSalt: options.hashUsernames === true ? loadUsernameSalt(options.dataDir) : undefined,
  });
  let relay: RelayHandle | undefined;
  // `systemctl reload` and certbot's deploy hook: serve a renewed certificate now. Installed first, so a SIGHUP at
  // any moment is answered rather than taking its default of ending the process.
  process.on('SIGHUP', () => {
    if (relay === undefined) {
      log('reload_skipped', { signal: 'SIGHUP', detail: 'the relay is still starting' });
      return;
    }
    const reloaded = relay.reloadTls();
    if (!reloaded.ok && reloaded.code === 'TLS_NOT_CONFIGURED') log('reload_skipped', { signal: 'SIGHUP', detail: reloaded.message });
  });
  try {
    relay = await startRelay(options, { log });
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
    console.error(`relay: ${error.message} (see --help)`);
    process.exitCode = 2;
    return;
  }
  const started = relay;
  const stop = (signal: NodeJS.Signals): void => {
    log('relay_stopping', { signal });
    started.close().then(
      () => log('relay_stopped'),
      (error: unknown) => {
        log('relay_stop_failed', describeError(error));
        process.exitCode = 1;
      },
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  // Last: whoever waits for this line may signal the relay at once.
  console.log(`listening on ${relay.url}`);
}

main().catch((error: unknown) => {
  console.error(`relay: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
