import { useState, type FormEvent } from 'react';
import { ratePassphrase } from '../../../shared/strength.js';
import { FormError } from '../components/FormError.js';
import { StrengthMeter } from '../components/StrengthMeter.js';
import { TextField } from '../components/TextField.js';
import { errorText } from '../errorText.js';
import { useSession } from '../stores/session.js';

function RecoverForm({ onCancel }: { onCancel(): void }) {
  const recover = useSession((state) => state.recover);
  const [recoveryKey, setRecoveryKey] = useState('');
  const [passphrase, setPassphrase] = useState('');
  const [confirmation, setConfirmation] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const strength = passphrase === '' ? null : ratePassphrase(passphrase);

  async function submit(event: FormEvent<HTMLFormElement>): Promise<void> {
    event.preventDefault();
    if (strength === null || !strength.acceptable) return setError('Choose a stronger new passphrase.');
    if (passphrase !== confirmation) return setError('The two passphrases do not match.');
    setBusy(true);
    setError(null);
    const result = await recover(recoveryKey, passphrase);
    setBusy(false);
    if (!result.ok) setError(errorText(result.error));
  }

  return (
    <form className="card" onSubmit={(event) => void submit(event)} aria-labelledby="recover-title" noValidate>
      <h1 className="brand">Parley</h1>
      <h2 id="recover-title">Reset your passphrase</h2>
      <p className="muted">Type the recovery key you wrote down when you created the profile, and choose a new passphrase. The old passphrase stops working.</p>
      <TextField label="Recovery key" value={recoveryKey} onValue={setRecoveryKey} autoFocus spellCheck={false} autoComplete="off" />
      <TextField label="New passphrase" type="password" value={passphrase} onValue={setPassphrase} autoComplete="new-password" />
      <StrengthMeter strength={strength} />
      <TextField label="Confirm new passphrase" type="password" value={confirmation} onValue={setConfirmation} autoComplete="new-password" />
      <FormError message={error} />
      <div className="row">
        <button type="button" onClick={onCancel}>
          Back
        </button>
        <button type="submit" className="primary" disabled={busy}>
          {busy ? 'Resetting…' : 'Reset passphrase'}
        </button>
      </div>
    </form>
  );
}

export function UnlockScreen({ username, autoUnlock }: { username: string; autoUnlock: boolean }) {
  const unlock = useSession((state) => state.unlock);
  const unlockAuto = useSession((state) => state.unlockAuto);
  const [passphrase, setPassphrase] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [recovering, setRecovering] = useState(false);

  async function submit(event: FormEvent<HTMLFormElement>): Promise<void> {
    event.preventDefault();
    if (passphrase.length === 0) {
      setError('Enter your passphrase.');
      return;
    }
    setBusy(true);
    setError(null);
    const result = await unlock(passphrase);
    setBusy(false);
    if (!result.ok) {
      setError(errorText(result.error));
      setPassphrase('');
    }
  }

  async function automatic(): Promise<void> {
    setBusy(true);
    const result = await unlockAuto();
    setBusy(false);
    if (!result.ok) setError(errorText(result.error));
  }

  if (recovering) {
    return (
      <main className="centered">
        <RecoverForm onCancel={() => setRecovering(false)} />
      </main>
    );
  }
  return (
    <main className="centered">
      <form className="card" onSubmit={(event) => void submit(event)} aria-labelledby="unlock-title" noValidate>
        <h1 className="brand">Parley</h1>
        <h2 id="unlock-title">Welcome back{username ? `, ${username}` : ''}</h2>
        <p className="muted">Your profile is locked. Enter your passphrase to open it.</p>
        <TextField label="Passphrase" type="password" value={passphrase} onValue={setPassphrase} autoComplete="current-password" autoFocus />
        <FormError message={error} />
        <button type="submit" className="primary" disabled={busy}>
          {busy ? 'Unlocking…' : 'Unlock'}
        </button>
        {autoUnlock ? (
          <button type="button" disabled={busy} onClick={() => void automatic()}>
            Unlock with this computer's keychain
          </button>
        ) : null}
        <button type="button" className="link" onClick={() => setRecovering(true)}>
          Forgot your passphrase? Use your recovery key
        </button>
      </form>
    </main>
  );
}
