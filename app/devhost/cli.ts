import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { homedir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { RelayUrl } from '../shared/index.js';
import { ensureLocalRelay, type LocalRelay } from './localRelay.js';
import { startDevhost, type Devhost } from './server.js';

const USAGE = `Usage: npm run dev -- [--profile DIR] [--port N] [--relay URL] [--backups DIR]

  --profile DIR  profile folder (default ~/.parley/dev-profile)
  --port N       HTTP port on 127.0.0.1 (default 5180; 0 picks a free port)
  --relay URL    relay offered during onboarding (default: a local relay on ws://127.0.0.1:7733,
                 started from this repository if none is running)
  --backups DIR  where Settings writes backups and onboarding lists them to restore
                 (default: the backups folder inside the profile folder)`;

const repoRoot = path.resolve(import.meta.dirname, '../..');

function expandHome(dir: string): string {
  return dir === '~' || dir.startsWith('~/') ? path.join(homedir(), dir.slice(1)) : path.resolve(dir);
}

function parsePort(value: string): number {
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65_535) throw new Error(`--port must be 0-65535, got ${value}`);
  return port;
}

interface Options {
  profileDir: string;
  port: number;
  relayUrl: string | undefined;
  backupDir: string | undefined;
}

function parseOptions(): Options | null {
  const { values } = parseArgs({
    options: {
      profile: { type: 'string' },
      port: { type: 'string' },
      relay: { type: 'string' },
      backups: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) return null;
  let relayUrl: string | undefined;
  if (values.relay !== undefined) {
    const parsed = RelayUrl.safeParse(values.relay);
    if (!parsed.success) throw new Error(`--relay: ${parsed.error.issues[0]?.message ?? 'invalid URL'}`);
    relayUrl = parsed.data;
  }
  return {
    profileDir: expandHome(values.profile ?? '~/.parley/dev-profile'),
    port: parsePort(values.port ?? '5180'),
    relayUrl,
    backupDir: values.backups === undefined ? undefined : expandHome(values.backups),
  };
}

async function main(): Promise<void> {
  const options = parseOptions();
  if (options === null) {
    console.log(USAGE);
    return;
  }
  const rendererDir = path.join(repoRoot, 'dist', 'renderer');
  if (!existsSync(path.join(rendererDir, 'index.html'))) {
    throw new Error('dist/renderer is missing; run `npm run build:renderer` (npm run dev does it for you)');
  }

  let relay: LocalRelay | undefined;
  let devhost: Devhost | undefined;
  let closing = false;
  const shutdown = async (): Promise<void> => {
    if (closing) process.exit(1); // a second Ctrl+C means now
    closing = true;
    await devhost?.close();
    await relay?.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown());
  process.on('SIGTERM', () => void shutdown());

  let relayUrl = options.relayUrl;
  if (relayUrl === undefined) {
    relay = await ensureLocalRelay(repoRoot, expandHome('~/.parley/dev-relay'));
    relayUrl = relay.url;
  }
  try {
    await mkdir(options.profileDir, { recursive: true, mode: 0o700 });
    devhost = await startDevhost({ profileDir: options.profileDir, rendererDir, port: options.port, defaultRelayUrl: relayUrl, backupDir: options.backupDir });
  } catch (error) {
    await relay?.stop();
    throw error;
  }
  console.log(`Profile: ${options.profileDir}`);
  console.log(`Relay:   ${relayUrl}`);
  if (options.backupDir !== undefined) console.log(`Backups: ${options.backupDir}`);
  console.log(`Parley is running at ${devhost.url}`);
}

main().catch((error: unknown) => {
  console.error(`parley dev: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
