import { afterEach } from 'vitest';
import { startTestRelay, type TestRelay } from './relay.js';
import { WireClient, type TestIdentity } from './wire-client.js';

/** Relays and raw clients for one test file, all closed after each test (clients first, then relays, newest first). */
export interface RelayHarness {
  relay(options?: Parameters<typeof startTestRelay>[0], extras?: Parameters<typeof startTestRelay>[1]): Promise<TestRelay>;
  /** Restart a relay on its data folder and port; the new handle is closed after the test too. */
  restart(current: TestRelay): Promise<TestRelay>;
  track(client: WireClient): WireClient;
  connect(url: string): Promise<WireClient>;
  registered(url: string, identity: TestIdentity): Promise<WireClient>;
  authenticated(url: string, identity: TestIdentity): Promise<WireClient>;
}

export function useRelayHarness(): RelayHarness {
  const relays: TestRelay[] = [];
  const clients: WireClient[] = [];
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((client) => client.close()));
    for (const relay of relays.splice(0).reverse()) await relay.close();
  });
  const track = (client: WireClient): WireClient => {
    clients.push(client);
    return client;
  };
  const adopt = (relay: TestRelay): TestRelay => {
    relays.push(relay);
    return relay;
  };
  return {
    relay: async (options = {}, extras = {}) => adopt(await startTestRelay(options, extras)),
    restart: async (current) => adopt(await current.restart()),
    track,
    connect: async (url) => track(await WireClient.connect(url)),
    registered: async (url, identity) => track(await WireClient.registered(url, identity)),
    authenticated: async (url, identity) => track(await WireClient.authenticated(url, identity)),
  };
}
