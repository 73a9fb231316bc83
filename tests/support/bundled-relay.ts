import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import type { Cleanups } from './cleanups.js';
import { captureLines, type LogCapture } from './log-capture.js';

/** A relay bundle running as a process of its own, its JSON log captured. */
export interface BundledRelay {
  readonly child: ChildProcessWithoutNullStreams;
  readonly stderr: LogCapture;
  /** Resolves with the exit status and signal. */
  readonly exited: Promise<unknown[]>;
  /** The URL from its `listening on URL` line; rejects if it exits first. */
  readonly url: Promise<string>;
}

/**
 * Start `node BUNDLE --port 0 --log-level info ARGS`, killed after the test. `wrapper` runs it under another program
 * (`['prlimit', '--nofile=400']`, say).
 */
export function startBundledRelay(cleanups: Cleanups, bundle: string, args: string[], wrapper: string[] = []): BundledRelay {
  const command = [...wrapper, process.execPath, bundle, '--port', '0', '--log-level', 'info', ...args];
  const [program = process.execPath, ...rest] = command;
  const child = spawn(program, rest);
  cleanups.push(async () => {
    child.kill('SIGKILL');
  });
  const stderr = captureLines();
  child.stderr.pipe(stderr.stream);
  const exited = once(child, 'exit');
  const url = new Promise<string>((resolve, reject) => {
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      const match = /^listening on (\S+)$/m.exec(stdout);
      if (match?.[1] !== undefined) resolve(match[1]);
    });
    void exited.then(() => reject(new Error(`relay exited early: ${stderr.raw()}`)));
  });
  return { child, stderr, exited, url };
}
