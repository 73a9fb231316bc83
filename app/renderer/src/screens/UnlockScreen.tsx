import { useState, type FormEvent } from 'react';
import { FormError } from '../components/FormError.js';
import { TextField } from '../components/TextField.js';
import { errorText } from '../errorText.js';
import { useSession } from '../stores/session.js';

export function UnlockScreen({ username }: { username: string }) {
  const unlock = useSession((state) => state.unlock);
  const [passphrase, setPassphrase] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

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
      </form>
    </main>
  );
}
