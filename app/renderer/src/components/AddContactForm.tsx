import { useState, type FormEvent } from 'react';
import { Username } from '../../../shared/index.js';
import { errorText } from '../errorText.js';
import { useContacts } from '../stores/contacts.js';
import { FormError } from './FormError.js';

export function AddContactForm() {
  const add = useContacts((state) => state.add);
  const [username, setUsername] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent<HTMLFormElement>): Promise<void> {
    event.preventDefault();
    const parsed = Username.safeParse(username);
    if (!parsed.success) {
      setError(parsed.error.issues[0]?.message ?? 'Enter a username.');
      return;
    }
    setBusy(true);
    setError(null);
    const result = await add(parsed.data);
    setBusy(false);
    if (result.ok) setUsername('');
    else setError(errorText(result.error));
  }

  return (
    <form className="add-contact" onSubmit={(event) => void submit(event)} noValidate>
      <label htmlFor="add-contact-input">Add contact</label>
      <div className="add-contact-row">
        <input
          id="add-contact-input"
          value={username}
          onChange={(event) => setUsername(event.target.value)}
          placeholder="username"
          autoComplete="off"
          spellCheck={false}
        />
        <button type="submit" disabled={busy}>
          {busy ? 'Adding…' : 'Add'}
        </button>
      </div>
      <FormError message={error} />
    </form>
  );
}
