import { useMemo, useState, type FormEvent } from 'react';
import { Passphrase, RelayUrl, Username } from '../../../shared/index.js';
import { ratePassphrase } from '../../../shared/strength.js';
import { StrengthMeter } from '../components/StrengthMeter.js';
import { FormError } from '../components/FormError.js';
import { TextField } from '../components/TextField.js';
import { errorText } from '../errorText.js';
import { useSession } from '../stores/session.js';

function firstProblem(username: string, passphrase: string, confirmation: string, relayUrl: string): string | null {
  const checks = [Username.safeParse(username), Passphrase.safeParse(passphrase), RelayUrl.safeParse(relayUrl)];
  for (const check of checks) if (!check.success) return check.error.issues[0]?.message ?? 'Check the form';
  const strength = ratePassphrase(passphrase, [username]);
  if (!strength.acceptable) return `This passphrase is too easy to guess. ${strength.warning}`.trim();
  if (passphrase !== confirmation) return 'The two passphrases do not match.';
  return null;
}

export function OnboardingScreen({ defaultRelayUrl }: { defaultRelayUrl: string }) {
  const createProfile = useSession((state) => state.createProfile);
  const [username, setUsername] = useState('');
  const [passphrase, setPassphrase] = useState('');
  const [confirmation, setConfirmation] = useState('');
  const [relayUrl, setRelayUrl] = useState(defaultRelayUrl);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const strength = useMemo(() => (passphrase === '' ? null : ratePassphrase(passphrase, [username])), [passphrase, username]);

  async function submit(event: FormEvent<HTMLFormElement>): Promise<void> {
    event.preventDefault();
    const problem = firstProblem(username, passphrase, confirmation, relayUrl);
    setError(problem);
    if (problem !== null) return;
    setBusy(true);
    const result = await createProfile({ username, passphrase, relayUrl });
    setBusy(false);
    if (!result.ok) setError(errorText(result.error));
  }

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
        <FormError message={error} />
        <button type="submit" className="primary" disabled={busy}>
          {busy ? 'Creating profile…' : 'Create profile'}
        </button>
      </form>
    </main>
  );
}
