import { useMemo, useState, type FormEvent } from 'react';
import { Passphrase, RegistrationLockCode, RelayUrl, Username, type ErrorCode } from '../../../shared/index.js';
import { ratePassphrase } from '../../../shared/strength.js';
import { StrengthMeter } from '../components/StrengthMeter.js';
import { FormError } from '../components/FormError.js';
import { TextField } from '../components/TextField.js';
import { errorText } from '../errorText.js';
import { useSession } from '../stores/session.js';
import { RestoreScreen } from './RestoreScreen.js';

function firstProblem(username: string, passphrase: string, confirmation: string, relayUrl: string): string | null {
  const checks = [Username.safeParse(username), Passphrase.safeParse(passphrase), RelayUrl.safeParse(relayUrl)];
  for (const check of checks) if (!check.success) return check.error.issues[0]?.message ?? 'Check the form';
  const strength = ratePassphrase(passphrase, [username]);
  if (!strength.acceptable) return `This passphrase is too easy to guess. ${strength.warning}`.trim();
  if (passphrase !== confirmation) return 'The two passphrases do not match.';
  return null;
}

/** Refusals after which the username may be ours under a registration lock: offer the code field. */
const LOCK_CODE_ERRORS = new Set<ErrorCode>(['RELAY_USERNAME_TAKEN', 'REGLOCK_INVALID_CODE', 'REGLOCK_NOT_ENABLED']);

function lockCodeProblem(code: string): string | null {
  const check = RegistrationLockCode.safeParse(code);
  return check.success ? null : (check.error.issues[0]?.message ?? 'Check the code');
}

export function OnboardingScreen({ defaultRelayUrl }: { defaultRelayUrl: string }) {
  const createProfile = useSession((state) => state.createProfile);
  const [username, setUsername] = useState('');
  const [passphrase, setPassphrase] = useState('');
  const [confirmation, setConfirmation] = useState('');
  const [relayUrl, setRelayUrl] = useState(defaultRelayUrl);
  const [error, setError] = useState<string | null>(null);
  const [askLockCode, setAskLockCode] = useState(false);
  const [lockCode, setLockCode] = useState('');
  const [busy, setBusy] = useState(false);
  const [restoring, setRestoring] = useState(false);
  const strength = useMemo(() => (passphrase === '' ? null : ratePassphrase(passphrase, [username])), [passphrase, username]);

  async function submit(event: FormEvent<HTMLFormElement>): Promise<void> {
    event.preventDefault();
    const code = lockCode.trim();
    const useCode = askLockCode && code !== '';
    const problem = firstProblem(username, passphrase, confirmation, relayUrl) ?? (useCode ? lockCodeProblem(code) : null);
    setError(problem);
    if (problem !== null) return;
    setBusy(true);
    const result = await createProfile({ username, passphrase, relayUrl, ...(useCode ? { registrationLockCode: code } : {}) });
    setBusy(false);
    if (result.ok) return;
    setError(errorText(result.error));
    if (LOCK_CODE_ERRORS.has(result.error.code)) setAskLockCode(true);
    setLockCode('');
  }

  if (restoring) return <RestoreScreen onCancel={() => setRestoring(false)} />;
  return (
    <main className="centered">
      <form className="card" onSubmit={(event) => void submit(event)} aria-labelledby="onboarding-title" noValidate>
        <h1 className="brand">Parley</h1>
        <h2 id="onboarding-title">Create your profile</h2>
        <p className="muted">Your keys and messages stay on this computer, encrypted with your passphrase.</p>
        <TextField label="Username" value={username} onValue={setUsername} autoComplete="username" autoFocus spellCheck={false} hint="3-32 characters: a-z, 0-9, dot, dash, underscore." />
        <TextField label="Passphrase" type="password" value={passphrase} onValue={setPassphrase} autoComplete="new-password" hint="A few unusual words. You will also get a recovery key, in case you forget it." />
        <StrengthMeter strength={strength} />
        <TextField label="Confirm passphrase" type="password" value={confirmation} onValue={setConfirmation} autoComplete="new-password" />
        <TextField label="Relay URL" type="url" value={relayUrl} onValue={setRelayUrl} spellCheck={false} hint="The relay that carries your encrypted messages." />
        {askLockCode ? (
          <TextField
            label="Registration lock code"
            value={lockCode}
            onValue={setLockCode}
            inputMode="numeric"
            autoComplete="one-time-code"
            maxLength={6}
            spellCheck={false}
            hint="Is this username yours, with a registration lock? Enter the code from your authenticator app to move it to this computer."
          />
        ) : null}
        <FormError message={error} />
        <button type="submit" className="primary" disabled={busy}>
          {busy ? 'Creating profile…' : 'Create profile'}
        </button>
        <button type="button" className="link" disabled={busy} onClick={() => setRestoring(true)}>
          Restore from a backup
        </button>
      </form>
    </main>
  );
}
