import { ZxcvbnFactory } from '@zxcvbn-ts/core';
import * as common from '@zxcvbn-ts/language-common';
import * as en from '@zxcvbn-ts/language-en';

/** The lowest zxcvbn score (0-4) a passphrase may have: 3 is "safely unguessable" against offline attack with a slow hash. */
export const MIN_PASSPHRASE_SCORE = 3;

export interface PassphraseStrength {
  /** 0 (too guessable) to 4 (very unguessable) */
  score: number;
  /** true when the score reaches MIN_PASSPHRASE_SCORE */
  acceptable: boolean;
  /** why it is weak, in one sentence; empty when acceptable */
  warning: string;
  suggestions: string[];
}

let factory: ZxcvbnFactory | undefined;

function estimator(): ZxcvbnFactory {
  factory ??= new ZxcvbnFactory({
    dictionary: { ...common.dictionary, ...en.dictionary },
    graphs: common.adjacencyGraphs,
    translations: en.translations,
  });
  return factory;
}

/**
 * Rate a passphrase; the UI and the core call the same function so both enforce the same floor.
 * userInputs (username, app name) count as guessable words.
 */
export function ratePassphrase(passphrase: string, userInputs: readonly string[] = []): PassphraseStrength {
  const result = estimator().check(passphrase.slice(0, 256), ['parley', ...userInputs]);
  const acceptable = result.score >= MIN_PASSPHRASE_SCORE;
  const warning = acceptable ? '' : result.feedback.warning ?? 'This passphrase would be guessed too quickly; add more unusual words.';
  return { score: result.score, acceptable, warning: warning === '' && !acceptable ? 'This passphrase would be guessed too quickly.' : warning, suggestions: result.feedback.suggestions };
}
