import { createServer } from 'node:net';

/** A loopback port nothing listens on now, for a server from Debian that cannot be told to take any free one and say which. */
export async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as { port: number };
  await new Promise((resolve) => probe.close(resolve));
  return port;
}
