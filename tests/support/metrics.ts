import type { TestRelay } from './relay.js';

/** A series' value from the relay's /metrics (0 while it has none). */
export async function metric(r: TestRelay, series: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${r.port}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? 0 : Number(line.split(' ').at(-1));
}
