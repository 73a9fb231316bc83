import { useState } from 'react';
import type { Contact } from '../../../shared/index.js';
import { errorText } from '../errorText.js';
import { getParley } from '../parley.js';
import { useContacts } from '../stores/contacts.js';
import { FormError } from './FormError.js';

/** Shown while a contact's identity key changed and the user has not acknowledged it; sending waits. */
export function IdentityChangedBanner({ contact, onShowSafety }: { contact: Contact; onShowSafety: () => void }) {
  const upsert = useContacts((state) => state.upsert);
  const [error, setError] = useState<string | null>(null);

  async function acknowledge(): Promise<void> {
    const result = await getParley().invoke('contacts.acknowledgeIdentity', { contact: contact.username });
    if (result.ok) upsert(result.value);
    else setError(errorText(result.error));
  }

  return (
    <div className="identity-warning" role="alert" data-testid="identity-warning">
      <p>
        <strong>{contact.username}’s safety number changed.</strong> They may have reinstalled Parley, or someone may be intercepting the conversation.
        Messages to them are held until you acknowledge this.
      </p>
      <div className="identity-warning-actions">
        <button type="button" onClick={onShowSafety}>
          Compare safety numbers
        </button>
        <button type="button" className="primary" onClick={() => void acknowledge()}>
          Acknowledge and send
        </button>
      </div>
      <FormError message={error} />
    </div>
  );
}
