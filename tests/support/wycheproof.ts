import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** `../shared/vectors/wycheproof` beside the clone (CI), or beside an ancestor folder (worktrees). */
export function wycheproofDir(): string {
  for (let dir = path.join(repoRoot, '..'); ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'shared', 'vectors', 'wycheproof');
    if (existsSync(candidate)) return candidate;
    if (path.dirname(dir) === dir) throw new Error(`Wycheproof vectors not found: expected ${path.join(repoRoot, '..', 'shared', 'vectors', 'wycheproof')}`);
  }
}

const Common = z.object({
  tcId: z.number(),
  comment: z.string().optional(),
  flags: z.array(z.string()),
  result: z.enum(['valid', 'invalid', 'acceptable']),
});
export type Common = z.infer<typeof Common>;

/** Every test of every group of one file, each parsed with `test` (which extends the common fields). */
export function loadTests<G extends z.ZodType, T extends z.ZodObject>(file: string, group: G, test: T): { group: z.infer<G>; test: Common & z.infer<T> }[] {
  const raw: unknown = JSON.parse(readFileSync(path.join(wycheproofDir(), file), 'utf8'));
  const parsed = z.object({ testGroups: z.array(z.object({ tests: z.array(z.unknown()) }).loose()) }).parse(raw);
  return parsed.testGroups.flatMap((g) => {
    const groupData = group.parse(g) as z.infer<G>;
    return g.tests.map((t) => ({ group: groupData, test: { ...Common.parse(t), ...test.parse(t) } as Common & z.infer<T> }));
  });
}
