import { parseArgs } from 'node:util';
import { describeError } from './log.js';
import { createLog } from './logger.js';
import { DEFAULT_HOST, DEFAULT_PORT } from './options.js';
import { startRelay } from './server.js';

const USAGE = `usage: relay --data DIR [--host HOST (default ${DEFAULT_HOST})] [--port PORT (default ${DEFAULT_PORT}, 0 = any free port)]`;

interface CliOptions {
  dataDir: string;
  host: string;
  port: number;
}

/** The options, or the one line of text explaining what is wrong with the arguments. */
function parseCli(args: string[]): CliOptions | string {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: { data: { type: 'string' }, host: { type: 'string' }, port: { type: 'string' }, help: { type: 'boolean' } },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
  if (values.help === true) return USAGE;
  if (values.data === undefined || values.data === '') return '--data DIR is required';
  const port = values.port === undefined ? DEFAULT_PORT : Number(values.port);
  if (values.port !== undefined && (!/^\d+$/.test(values.port) || port > 65_535)) {
    return `--port must be a number from 0 to 65535, got '${values.port}'`;
  }
  return { dataDir: values.data, host: values.host ?? DEFAULT_HOST, port };
}

async function main(): Promise<void> {
  const parsed = parseCli(process.argv.slice(2));
  if (typeof parsed === 'string') {
    if (parsed === USAGE) {
      console.log(USAGE);
    } else {
      console.error(`relay: ${parsed} (see --help)`);
      process.exitCode = 2;
    }
    return;
  }
  const log = createLog({ level: 'info' });
  const relay = await startRelay(parsed, { log });
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
