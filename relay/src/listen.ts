import { createServer, type Server } from 'node:net';

/** Why the relay could not listen, as an operator would put it; other errors as they came. */
const LISTEN_FAILURES: Readonly<Record<string, string>> = {
  EADDRINUSE: 'the port is in use',
  EACCES: 'the port needs privileges this process lacks',
  EADDRNOTAVAIL: 'the host is not an address of this machine',
};

export function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const failed = (error: NodeJS.ErrnoException): void => {
      const why = error.code === undefined ? undefined : LISTEN_FAILURES[error.code];
      // A RangeError: the command line reports it as a bad setting (host or port), with exit status 2.
      reject(why === undefined ? error : new RangeError(`cannot listen on ${host} port ${port}: ${why} (${error.code})`));
    };
    server.once('error', failed);
    server.listen(port, host, () => {
      server.off('error', failed);
      resolve();
    });
  });
}

/** Whether this process could listen on host and port now: undefined if so, else why not (a RangeError's message, or the error). */
export async function listenProblem(port: number, host: string): Promise<string | undefined> {
  const probe = createServer();
  try {
    await listen(probe, port, host);
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  } finally {
    probe.close();
  }
}
