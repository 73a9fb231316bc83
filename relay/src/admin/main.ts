import { USAGE, UsageError, runAdmin } from './cli.js';
import { AdminError } from './operations.js';

/** The relay:admin program: one command, its lines on stdout; errors on stderr with status 1 (2 for usage). */
function main(): void {
  try {
    // The relay's own variable: where the relay runs from its environment (systemd, Docker), so does this tool.
    for (const line of runAdmin(process.argv.slice(2), Date.now(), process.env.PARLEY_RELAY_DATA)) console.log(line);
  } catch (error) {
    if (error instanceof AdminError) {
      console.error(`relay:admin: error ${error.code}: ${error.message}`);
      process.exitCode = 1;
    } else if (error instanceof UsageError || (error instanceof TypeError && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS'))) {
      console.error(`relay:admin: ${error.message}\n${USAGE}`);
      process.exitCode = 2;
    } else {
      console.error(`relay:admin: ${error instanceof Error ? error.message : String(error)}`);
      process.exitCode = 1;
    }
  }
}

main();
