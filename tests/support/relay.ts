import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRelay, type RelayHandle, type RelayOptions, type StartRelayExtras } from '../../relay/src/server.js';

export type TestRelay = RelayHandle & { dataDir: string; restart(): Promise<TestRelay> };

/**
 * A relay on a free loopback port with a fresh temp data dir, logging nothing unless a logLevel is given.
 * close() also removes the dir; restart() closes this relay and starts another on the same dir and port
 * (clients can reconnect to the same url).
 */
export async function startTestRelay(options: Partial<Omit<RelayOptions, 'dataDir'>> = {}, extras: StartRelayExtras = {}): Promise<TestRelay> {
  const dataDir = await mkdtemp(join(tmpdir(), 'parley-relay-'));
  try {
    return await startOn(dataDir, { host: '127.0.0.1', port: 0, logLevel: 'silent', ...options }, extras);
  } catch (error) {
    await rm(dataDir, { recursive: true, force: true });
    throw error;
  }
}

async function startOn(dataDir: string, options: Omit<RelayOptions, 'dataDir'>, extras: StartRelayExtras): Promise<TestRelay> {
  const relay = await startRelay({ ...options, dataDir }, extras);
  let restarted = false;
  return {
    ...relay,
    dataDir,
    async close() {
      await relay.close();
      // After a restart the dir belongs to the new relay.
      if (!restarted) await rm(dataDir, { recursive: true, force: true });
    },
    async restart() {
      restarted = true;
      await relay.close();
      return startOn(dataDir, { ...options, port: relay.port }, extras);
    },
  };
}
