import { useState, type FormEvent } from 'react';
import { FormError } from '../components/FormError.js';
import { TextField } from '../components/TextField.js';
import { errorText } from '../errorText.js';
import { useSession } from '../stores/session.js';

/** Shown once after setup: the recovery key, then a retype of it, before the profile can be used. */
export function RecoveryKeyScreen({ recoveryKey }: { recoveryKey: string | null }) {
  const confirm = useSession((state) => state.confirmRecoveryKey);
  const [typed, setTyped] = useState('');
  const [step, setStep] = useState<'show' | 'retype'>(recoveryKey === null ? 'retype' : 'show');
  const [error, setError] = useState<string | null>(null);

  async function submit(event: FormEvent<HTMLFormElement>): Promise<void> {
    event.preventDefault();
    const result = await confirm(typed);
    if (!result.ok) setError(errorText(result.error));
  }

  if (step === 'show' && recoveryKey !== null) {
    return (
      <main className="centered">
        <section className="card" aria-labelledby="recovery-title">
          <h1 className="brand">Parley</h1>
          <h2 id="recovery-title">Save your recovery key</h2>
          <p className="muted">If you forget your passphrase, this key is the only way back into your messages. Write it down and keep it somewhere safe. It is shown only now.</p>
          <p className="recovery-key" aria-label="Your recovery key" data-testid="recovery-key">
            {recoveryKey}
          </p>
          <button type="button" className="primary" onClick={() => setStep('retype')}>
            I have written it down
          </button>
        </section>
      </main>
    );
  }
  return (
    <main className="centered">
      <form className="card" onSubmit={(event) => void submit(event)} aria-labelledby="retype-title" noValidate>
        <h1 className="brand">Parley</h1>
        <h2 id="retype-title">Type your recovery key</h2>
        <p className="muted">To be sure you have it, type the recovery key you wrote down.</p>
        <TextField label="Recovery key" value={typed} onValue={setTyped} autoFocus spellCheck={false} autoComplete="off" />
        <FormError message={error} />
        <div className="row">
          {recoveryKey !== null ? (
            <button type="button" onClick={() => setStep('show')}>
              Show it again
            </button>
          ) : null}
          <button type="submit" className="primary">
            Confirm
          </button>
        </div>
      </form>
    </main>
  );
}
