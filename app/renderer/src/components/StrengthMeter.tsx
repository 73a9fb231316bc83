import { MIN_PASSPHRASE_SCORE, type PassphraseStrength } from '../../../shared/strength.js';

const LABELS = ['Too guessable', 'Very weak', 'Weak', 'Strong', 'Very strong'];

/** How hard the passphrase is to guess, with the same floor the core enforces and the reason when it is under. */
export function StrengthMeter({ strength }: { strength: PassphraseStrength | null }) {
  if (strength === null) return null;
  return (
    <div className="strength" data-score={strength.score}>
      <meter min={0} max={4} low={MIN_PASSPHRASE_SCORE - 0.5} high={MIN_PASSPHRASE_SCORE} optimum={4} value={strength.score} aria-label="Passphrase strength" />
      <p className="hint" aria-live="polite">
        {LABELS[strength.score]}
        {strength.acceptable ? '' : `: ${[strength.warning, ...strength.suggestions].filter((line) => line !== '').join(' ')}`}
      </p>
    </div>
  );
}
