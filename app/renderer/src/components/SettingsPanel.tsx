import { useEffect, useState, type FormEvent } from 'react';
import type { VaultSettings } from '../../../shared/index.js';
import { ratePassphrase } from '../../../shared/strength.js';
import { errorText } from '../errorText.js';
import { getParley } from '../parley.js';
import { useContacts } from '../stores/contacts.js';
import { useSession } from '../stores/session.js';
import { BackupSection } from './BackupSection.js';
import { FormError } from './FormError.js';
import { RegistrationLockSection } from './RegistrationLockSection.js';
import { StrengthMeter } from './StrengthMeter.js';
import { TextField } from './TextField.js';

const AUTO_LOCK_CHOICES = [0, 1, 5, 15, 30, 60, 240];

function ChangePassphrase({ username }: { username: string }) {
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [confirmation, setConfirmation] = useState('');
  const [message, setMessage] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const strength = next === '' ? null : ratePassphrase(next, [username]);

  async function submit(event: FormEvent<HTMLFormElement>): Promise<void> {
    event.preventDefault();
    setMessage(null);
    if (strength === null || !strength.acceptable) return setError('Choose a stronger new passphrase.');
    if (next !== confirmation) return setError('The two new passphrases do not match.');
    const result = await getParley().invoke('profile.changePassphrase', { passphrase: current, newPassphrase: next });
    if (!result.ok) return setError(errorText(result.error));
    setError(null);
    setCurrent('');
    setNext('');
    setConfirmation('');
    setMessage('Passphrase changed. The old one no longer opens this profile.');
  }

  return (
    <form onSubmit={(event) => void submit(event)} aria-labelledby="change-title" noValidate>
      <h3 id="change-title">Change passphrase</h3>
      <TextField label="Current passphrase" type="password" value={current} onValue={setCurrent} autoComplete="current-password" />
      <TextField label="New passphrase" type="password" value={next} onValue={setNext} autoComplete="new-password" />
      <StrengthMeter strength={strength} />
      <TextField label="Confirm new passphrase" type="password" value={confirmation} onValue={setConfirmation} autoComplete="new-password" />
      <FormError message={error} />
      {message === null ? null : <p role="status">{message}</p>}
      <button type="submit" className="primary">
        Change passphrase
      </button>
    </form>
  );
}

function ExportConversation() {
  const contacts = useContacts((state) => state.contacts);
  const [contact, setContact] = useState('');
  const [format, setFormat] = useState<'html' | 'json'>('html');
  const [passphrase, setPassphrase] = useState('');
  const [error, setError] = useState<string | null>(null);

  async function submit(event: FormEvent<HTMLFormElement>): Promise<void> {
    event.preventDefault();
    const chosen = contact || contacts[0]?.username || '';
    const result = await getParley().invoke('messages.exportConversation', { contact: chosen, passphrase, format });
    setPassphrase('');
    if (!result.ok) return setError(errorText(result.error));
    setError(null);
    const url = URL.createObjectURL(new Blob([result.value.content], { type: result.value.mimeType }));
    const link = document.createElement('a');
    link.href = url;
    link.download = result.value.fileName;
    link.click();
    URL.revokeObjectURL(url);
  }

  return (
    <form onSubmit={(event) => void submit(event)} aria-labelledby="export-title" noValidate>
      <h3 id="export-title">Export a conversation</h3>
      <p className="muted">A readable copy, not encrypted: keep it somewhere safe.</p>
      <label>
        Conversation{' '}
        <select value={contact} onChange={(event) => setContact(event.target.value)}>
          {contacts.map((item) => (
            <option key={item.username} value={item.username}>
              {item.username}
            </option>
          ))}
        </select>
      </label>
      <label>
        Format{' '}
        <select value={format} onChange={(event) => setFormat(event.target.value === 'json' ? 'json' : 'html')}>
          <option value="html">HTML</option>
          <option value="json">JSON</option>
        </select>
      </label>
      <TextField label="Passphrase to export" type="password" value={passphrase} onValue={setPassphrase} autoComplete="current-password" />
      <FormError message={error} />
      <button type="submit">Export</button>
    </form>
  );
}

function NewRecoveryKey({ missing }: { missing: boolean }) {
  const newRecoveryKey = useSession((state) => state.newRecoveryKey);
  const [passphrase, setPassphrase] = useState('');
  const [error, setError] = useState<string | null>(null);

  async function submit(event: FormEvent<HTMLFormElement>): Promise<void> {
    event.preventDefault();
    const result = await newRecoveryKey(passphrase);
    setPassphrase('');
    setError(result.ok ? null : errorText(result.error));
  }

  return (
    <form onSubmit={(event) => void submit(event)} aria-labelledby="new-recovery-title" noValidate>
      <h3 id="new-recovery-title">Recovery key</h3>
      <p className="muted">
        {missing
          ? 'This profile has no recovery key yet: without one, a forgotten passphrase means lost messages.'
          : 'Lost the recovery key, or think someone saw it? Make a new one; the old one stops working.'}
      </p>
      <TextField label="Passphrase for a new recovery key" type="password" value={passphrase} onValue={setPassphrase} autoComplete="current-password" />
      <FormError message={error} />
      <button type="submit">Make a new recovery key</button>
    </form>
  );
}

/** Vault settings: change passphrase, auto-lock, automatic unlock through the OS keychain, exports. */
export function SettingsPanel({ username }: { username: string }) {
  const [settings, setSettings] = useState<VaultSettings | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [keychainPassphrase, setKeychainPassphrase] = useState('');

  useEffect(() => {
    void getParley()
      .invoke('settings.get', {})
      .then((result) => (result.ok ? setSettings(result.value) : setError(errorText(result.error))));
  }, []);

  async function setAutoLock(minutes: number): Promise<void> {
    const result = await getParley().invoke('settings.setAutoLock', { minutes });
    if (result.ok) setSettings(result.value);
    else setError(errorText(result.error));
  }

  async function toggleKeychain(event: FormEvent<HTMLFormElement>): Promise<void> {
    event.preventDefault();
    const result = settings?.keychain.enabled
      ? await getParley().invoke('keychain.disable', {})
      : await getParley().invoke('keychain.enable', { passphrase: keychainPassphrase });
    setKeychainPassphrase('');
    if (result.ok) {
      setSettings(result.value);
      setError(null);
    } else setError(errorText(result.error));
  }

  return (
    <section className="settings" aria-labelledby="settings-title">
      <h2 id="settings-title">Settings</h2>
      <FormError message={error} />
      {settings === null ? null : (
        <>
          <section aria-labelledby="autolock-title">
            <h3 id="autolock-title">Lock automatically</h3>
            <label>
              Lock after{' '}
              <select aria-label="Auto-lock minutes" value={settings.autoLockMinutes} onChange={(event) => void setAutoLock(Number(event.target.value))}>
                {AUTO_LOCK_CHOICES.map((minutes) => (
                  <option key={minutes} value={minutes}>
                    {minutes === 0 ? 'never' : `${minutes} idle minute${minutes === 1 ? '' : 's'}`}
                  </option>
                ))}
              </select>
            </label>
          </section>
          <form onSubmit={(event) => void toggleKeychain(event)} aria-labelledby="keychain-title">
            <h3 id="keychain-title">Unlock automatically on this computer</h3>
            {settings.keychain.available || settings.keychain.enabled ? (
              <>
                <p className="muted">Uses this computer's keychain: anyone who can log in as you here can open Parley without the passphrase.</p>
                {settings.keychain.enabled ? null : (
                  <TextField label="Passphrase to turn on" type="password" value={keychainPassphrase} onValue={setKeychainPassphrase} autoComplete="current-password" />
                )}
                <button type="submit">{settings.keychain.enabled ? 'Turn off' : 'Turn on'}</button>
              </>
            ) : (
              <p className="muted">Not available: {settings.keychain.reason}</p>
            )}
          </form>
        </>
      )}
      {settings === null ? null : <NewRecoveryKey missing={!settings.hasRecoveryKey} />}
      <RegistrationLockSection />
      <ChangePassphrase username={username} />
      <ExportConversation />
      <BackupSection username={username} />
    </section>
  );
}
