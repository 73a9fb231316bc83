import { useState, type FormEvent } from 'react';
import { ratePassphrase } from '../../../shared/strength.js';
import { errorText } from '../errorText.js';
import { getParley } from '../parley.js';
import { FormError } from './FormError.js';
import { StrengthMeter } from './StrengthMeter.js';
import { TextField } from './TextField.js';

/** Settings → Backups: the whole profile, encrypted under a passphrase of the user's choice; the host decides where the file goes. */
export function BackupSection({ username }: { username: string }) {
  const [passphrase, setPassphrase] = useState('');
  const [backupPassphrase, setBackupPassphrase] = useState('');
  const [confirmation, setConfirmation] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const strength = backupPassphrase === '' ? null : ratePassphrase(backupPassphrase, [username]);

  async function submit(event: FormEvent<HTMLFormElement>): Promise<void> {
    event.preventDefault();
    setMessage(null);
    if (passphrase === '') return setError('Enter your current passphrase.');
    if (strength === null || !strength.acceptable) return setError('Choose a stronger backup passphrase.');
    if (backupPassphrase !== confirmation) return setError('The two backup passphrases do not match.');
    setBusy(true);
    setError(null);
    const result = await getParley().invoke('backup.export', { passphrase, backupPassphrase });
    setBusy(false);
    setPassphrase('');
    if (!result.ok) {
      // Backing out of the save dialog is a choice, not a failure.
      if (result.error.code !== 'BACKUP_CANCELLED') setError(errorText(result.error));
      return;
    }
    setBackupPassphrase('');
    setConfirmation('');
    setMessage(`Backup saved as ${result.value.fileName}. Keep the backup passphrase safe: without it the backup cannot be opened.`);
  }

  return (
    <form onSubmit={(event) => void submit(event)} aria-labelledby="backups-title" noValidate>
      <h3 id="backups-title">Backups</h3>
      <p className="muted">
        One encrypted file with your whole profile: keys, contacts, messages and attachments. Restore it on a new computer with “Restore from a backup”.
      </p>
      <TextField label="Passphrase to back up" type="password" value={passphrase} onValue={setPassphrase} autoComplete="current-password" />
      <TextField
        label="Backup passphrase"
        type="password"
        value={backupPassphrase}
        onValue={setBackupPassphrase}
        autoComplete="new-password"
        hint="Protects this backup file; it may differ from your profile passphrase."
      />
      <StrengthMeter strength={strength} />
      <TextField label="Confirm backup passphrase" type="password" value={confirmation} onValue={setConfirmation} autoComplete="new-password" />
      <FormError message={error} />
      {message === null ? null : <p role="status">{message}</p>}
      <button type="submit" disabled={busy}>
        {busy ? 'Writing backup…' : 'Export backup'}
      </button>
    </form>
  );
}
