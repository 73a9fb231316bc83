import { useEffect, useState, type FormEvent } from 'react';
import type { RegistrationLockSetup } from '../../../shared/index.js';
import { errorText } from '../errorText.js';
import { getParley } from '../parley.js';
import { FormError } from './FormError.js';
import { TextField } from './TextField.js';

/** Registration lock: with it on, moving this username to a new computer needs a code from an authenticator app. */
export function RegistrationLockSection() {
  const [enabled, setEnabled] = useState<boolean | null>(null);
  const [setup, setSetup] = useState<RegistrationLockSetup | null>(null);
  const [code, setCode] = useState('');
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    void getParley()
      .invoke('registrationLock.status', {})
      .then((result) => (result.ok ? setEnabled(result.value.enabled) : setError(errorText(result.error))));
  }, []);

  async function start(): Promise<void> {
    const result = await getParley().invoke('registrationLock.setup', {});
    if (!result.ok) return setError(errorText(result.error));
    setError(null);
    setSetup(result.value);
  }

  async function submit(event: FormEvent<HTMLFormElement>): Promise<void> {
    event.preventDefault();
    const result = await getParley().invoke(enabled === true ? 'registrationLock.disable' : 'registrationLock.enable', { code: code.trim() });
    setCode('');
    if (!result.ok) {
      // The relay has no lock for us (turned off elsewhere): show it off.
      if (result.error.code === 'REGLOCK_NOT_ENABLED') setEnabled(false);
      return setError(errorText(result.error));
    }
    setError(null);
    setSetup(null);
    setEnabled(result.value.enabled);
  }

  const codeForm = (label: string, action: string) => (
    <form onSubmit={(event) => void submit(event)} aria-label={action} noValidate>
      <TextField label={label} value={code} onValue={setCode} inputMode="numeric" autoComplete="one-time-code" maxLength={6} spellCheck={false} />
      <button type="submit">{action}</button>
    </form>
  );

  return (
    <section aria-labelledby="reglock-title">
      <h3 id="reglock-title">Registration lock</h3>
      <p className="muted">
        {enabled === true
          ? 'On: setting up this username on another computer needs a code from your authenticator app.'
          : 'Off: turn it on so that nobody can take over your username on this relay without a code from your authenticator app.'}
      </p>
      <FormError message={error} />
      {enabled === null ? null : enabled ? (
        codeForm('Code to turn off', 'Turn off registration lock')
      ) : setup === null ? (
        <button type="button" onClick={() => void start()}>
          Turn on registration lock
        </button>
      ) : (
        <>
          <p>Scan this code with your authenticator app, or type the key in by hand.</p>
          <img className="safety-qr" alt="QR code of the registration lock secret" src={`data:image/svg+xml;charset=utf-8,${encodeURIComponent(setup.qrSvg)}`} />
          <p>
            Key: <code aria-label="Registration lock key">{setup.secret}</code>
          </p>
          {codeForm('Code from your authenticator app', 'Confirm and turn on')}
        </>
      )}
    </section>
  );
}
