import { isValidUsername } from '../protocol/index.js';

/** Names nobody may register: they could pass for the relay's operator or for Parley itself. */
export const RESERVED_USERNAMES: ReadonlySet<string> = new Set([
  'admin', 'administrator', 'root', 'support', 'help', 'parley', 'relay', 'system', 'security', 'official',
  'moderator', 'mod', 'staff', 'abuse', 'postmaster', 'hostmaster', 'webmaster', 'noreply', 'no-reply', 'null', 'nobody',
]);

/**
 * Characters that read alike in a username, folded to one representative. The wire pattern already limits
 * names to a-z 0-9 . _ -, so only look-alikes inside that set remain; other scripts are refused outright.
 */
const CONFUSABLES: ReadonlyArray<readonly [RegExp, string]> = [
  [/rn/g, 'm'],
  [/vv/g, 'w'],
  [/0/g, 'o'],
  [/[1il|]/g, 'l'],
  [/5/g, 's'],
  [/[._-]+/g, ''],
];

export type UsernameProblem = 'invalid' | 'reserved';

/**
 * The form two look-alike names share: NFKC, lower case, then the confusable folds above. Two names with the
 * same skeleton cannot both be registered ("a1ice" after "alice", "bo.b" after "bob").
 */
export function usernameSkeleton(name: string): string {
  let folded = name.normalize('NFKC').toLowerCase();
  for (const [pattern, replacement] of CONFUSABLES) folded = folded.replace(pattern, replacement);
  return folded;
}

/**
 * Why a username cannot be registered, or undefined if it can. A name must already be in canonical form (the wire
 * pattern: lower-case ASCII, so NFKC leaves it as it is): the relay refuses other forms instead of silently changing them.
 */
export function usernameProblem(name: string): UsernameProblem | undefined {
  if (!isValidUsername(name)) return 'invalid';
  const skeleton = usernameSkeleton(name);
  for (const reserved of RESERVED_USERNAMES) if (usernameSkeleton(reserved) === skeleton) return 'reserved';
  return undefined;
}
