import { Writable } from 'node:stream';

export type LogLine = Record<string, unknown>;

/** A pino destination that keeps every line, parsed, and lets a test await the line it expects. */
export interface LogCapture {
  readonly stream: Writable;
  readonly lines: LogLine[];
  raw(): string;
  /** The first line, logged already or to come, that has every field of `fields`. */
  next(fields: LogLine): Promise<LogLine>;
}

function matches(line: LogLine, fields: LogLine): boolean {
  return Object.entries(fields).every(([key, value]) => line[key] === value);
}

export function captureLines(): LogCapture {
  const lines: LogLine[] = [];
  const waiting: Array<{ fields: LogLine; resolve: (line: LogLine) => void }> = [];
  let raw = '';
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      raw += chunk.toString();
      for (const text of chunk.toString().split('\n')) {
        if (text === '') continue;
        const line = JSON.parse(text) as LogLine;
        lines.push(line);
        for (const waiter of waiting.filter((w) => matches(line, w.fields))) {
          waiting.splice(waiting.indexOf(waiter), 1);
          waiter.resolve(line);
        }
      }
      done();
    },
  });
  return {
    stream,
    lines,
    raw: () => raw,
    next: (fields) => {
      const seen = lines.find((line) => matches(line, fields));
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise((resolve) => waiting.push({ fields, resolve }));
    },
  };
}
