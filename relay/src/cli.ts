import { readFileSync } from 'node:fs';
import { isatty } from 'node:tty';
import { checkConfig, type ConfigCheck } from './check.js';
import { ConfigError, loadConfig, usage } from './config.js';
import { describeError, type Log } from './log.js';
import { createLog, loadUsernameSalt } from './logger.js';
import { startRelay, type RelayHandle } from './server.js';
import { relayVersion } from './version.js';

/** SIGHUP as a service manager sends it: read the TLS certificate again, the one thing the relay reloads. */
function reloadOnHangup(log: Log, relay: () => RelayHandle | undefined): void {
  process.on('SIGHUP', () => {
    const running = relay();
    if (running === undefined) {
      log('reload_skipped', { signal: 'SIGHUP', detail: 'the relay is still starting' });
      return;
    }
    const reloaded = running.reloadTls();
    if (!reloaded.ok && reloaded.code === 'TLS_NOT_CONFIGURED') log('reload_skipped', { signal: 'SIGHUP', detail: reloaded.message });
  });
}

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
  // On a terminal, SIGHUP is the terminal going away, and the relay stops as for SIGTERM (below) rather than run on
  // unseen, holding its port and data folder. Run as a service, it is `systemctl reload` or certbot's deploy hook
  // asking for a renewed certificate: answered from the start, not with SIGHUP's default of ending the process.
  const onTerminal = isatty(0);
  if (!onTerminal) reloadOnHangup(log, () => relay);
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
  if (onTerminal) process.once('SIGHUP', stop);
  // Last: whoever waits for this line may signal the relay at once.
  console.log(`listening on ${relay.url}`);
}

main().catch((error: unknown) => {
  console.error(`relay: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
