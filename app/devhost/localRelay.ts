import { spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { createInterface } from 'node:readline';

export const LOCAL_RELAY_HOST = '127.0.0.1';
export const LOCAL_RELAY_PORT = 7733;
const PROBE_TIMEOUT_MS = 1_000;
const START_TIMEOUT_MS = 60_000;

export interface LocalRelay {
  url: string;
  /** Stops the relay if this process started it; a relay that was already running is left alone. */
  stop(): Promise<void>;
}

function acceptsConnection(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (accepted: boolean): void => {
      socket.destroy();
      resolve(accepted);
    };
    socket.setTimeout(PROBE_TIMEOUT_MS, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

function waitForListening(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    if (!child.stdout) {
      reject(new Error('the relay has no stdout'));
      return;
    }
    const lines = createInterface({ input: child.stdout });
    const timer = setTimeout(() => reject(new Error('the relay did not start in time')), START_TIMEOUT_MS);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the relay exited with code ${String(code)} before listening`));
    });
    lines.on('line', (line) => {
      console.log(`[relay] ${line}`);
      const match = /listening on (wss?:\/\/\S+)/.exec(line);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
  });
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return Promise.resolve();
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // npm runs the relay through a shell and tsx; signal the whole group this process started.
  process.kill(-child.pid, 'SIGTERM');
  return exited;
}

/** Use the relay on 127.0.0.1:7733 if one answers, else start one from this repository with its data in dataDir. */
export async function ensureLocalRelay(repoRoot: string, dataDir: string): Promise<LocalRelay> {
  const url = `ws://${LOCAL_RELAY_HOST}:${LOCAL_RELAY_PORT}`;
  if (await acceptsConnection(LOCAL_RELAY_HOST, LOCAL_RELAY_PORT)) {
    return { url, stop: () => Promise.resolve() };
  }
  const args = ['run', '-s', 'relay', '--', '--host', LOCAL_RELAY_HOST, '--port', String(LOCAL_RELAY_PORT), '--data', dataDir];
  const child = spawn('npm', args, { cwd: repoRoot, stdio: ['ignore', 'pipe', 'inherit'], detached: true });
  try {
    return { url: await waitForListening(child), stop: () => stopChild(child) };
  } catch (error) {
    await stopChild(child);
    throw error;
  }
}
