import { readFileSync } from 'node:fs';

const RELAY_MD = readFileSync(new URL('../../docs/RELAY.md', import.meta.url), 'utf8');

/** The first fenced block of docs/RELAY.md after `marker` (a heading line, or words just before it): what an operator copies. */
export function relayDocBlock(marker: string): string {
  const at = RELAY_MD.indexOf(marker);
  const block = /```[a-z]*\n([\s\S]*?)```/.exec(RELAY_MD.slice(Math.max(at, 0)));
  if (at < 0 || block?.[1] === undefined) throw new Error(`docs/RELAY.md has no block after ${marker}`);
  return block[1];
}
