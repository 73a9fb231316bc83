import { useEffect, useState, type FormEvent } from 'react';
import type { BackupSources } from '../../../shared/index.js';
import { FormError } from '../components/FormError.js';
import { TextField } from '../components/TextField.js';
import { errorText } from '../errorText.js';
import { getParley } from '../parley.js';
import { useSession } from '../stores/session.js';

function describe(bytes: number, modifiedAt: number): string {
  const size = bytes < 1024 * 1024 ? `${Math.max(1, Math.round(bytes / 1024))} KB` : `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
  return `${new Date(modifiedAt).toLocaleString()}, ${size}`;
}

/** Onboarding's other way in: a backup of a profile, restored into this empty one; then it unlocks with that profile's passphrase. */
export function RestoreScreen({ onCancel }: { onCancel(): void }) {
  const refresh = useSession((state) => state.refresh);
  const [sources, setSources] = useState<BackupSources | null>(null);
  const [fileName, setFileName] = useState('');
  const [backupPassphrase, setBackupPassphrase] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    void getParley()
      .invoke('backup.sources', {})
      .then((result) => {
        if (!result.ok) return setError(errorText(result.error));
        setSources(result.value);
        if (result.value.picker === 'list') setFileName(result.value.files[0]?.fileName ?? '');
      });
  }, []);

  async function submit(event: FormEvent<HTMLFormElement>): Promise<void> {
    event.preventDefault();
    if (sources === null) return;
    if (sources.picker === 'list' && fileName === '') return setError('Choose a backup to restore.');
    if (backupPassphrase === '') return setError('Enter the backup passphrase.');
    setBusy(true);
    setError(null);
    const result = await getParley().invoke('backup.restore', { backupPassphrase, ...(sources.picker === 'list' ? { fileName } : {}) });
    setBusy(false);
    if (result.ok) return refresh();
    setBackupPassphrase('');
    if (result.error.code !== 'BACKUP_CANCELLED') setError(errorText(result.error));
  }

  const list = sources?.picker === 'list' ? sources.files : null;
  return (
    <main className="centered">
      <form className="card" onSubmit={(event) => void submit(event)} aria-labelledby="restore-title" noValidate>
        <h1 className="brand">Parley</h1>
        <h2 id="restore-title">Restore from a backup</h2>
        <p className="muted">Bring back a whole profile from a backup file. Afterwards, unlock it with that profile’s passphrase.</p>
        {list === null ? null : list.length === 0 ? (
          <p className="muted">No backups found in this profile’s backups folder.</p>
        ) : (
          <fieldset className="backup-list">
            <legend>Backup</legend>
            {list.map((file) => (
              <label key={file.fileName}>
                <input type="radio" name="backup" value={file.fileName} checked={fileName === file.fileName} onChange={() => setFileName(file.fileName)} />{' '}
                {file.fileName} <span className="hint">({describe(file.bytes, file.modifiedAt)})</span>
              </label>
            ))}
          </fieldset>
        )}
        <TextField label="Backup passphrase" type="password" value={backupPassphrase} onValue={setBackupPassphrase} autoComplete="off" autoFocus />
        <FormError message={error} />
        <div className="row">
          <button type="button" onClick={onCancel} disabled={busy}>
            Back
          </button>
          <button type="submit" className="primary" disabled={busy || sources === null || (list !== null && list.length === 0)}>
            {busy ? 'Restoring…' : sources?.picker === 'dialog' ? 'Choose backup file and restore' : 'Restore'}
          </button>
        </div>
      </form>
    </main>
  );
}
