import { useEffect, useState, type FormEvent } from 'react';
import type { Contact, SafetyNumber } from '../../../shared/index.js';
import { errorText } from '../errorText.js';
import { getParley } from '../parley.js';
import { useContacts } from '../stores/contacts.js';
import { FormError } from './FormError.js';

/** Compare safety numbers (digits or the QR payload) and mark the contact verified. */
export function SafetyNumberPanel({ contact, onClose }: { contact: Contact; onClose: () => void }) {
  const upsert = useContacts((state) => state.upsert);
  const [safety, setSafety] = useState<SafetyNumber | null>(null);
  const [scanned, setScanned] = useState('');
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let current = true;
    void getParley()
      .invoke('safety.get', { contact: contact.username })
      .then((result) => {
        if (!current) return;
        if (result.ok) setSafety(result.value);
        else setError(errorText(result.error));
      });
    return () => {
      current = false;
    };
  }, [contact.username, contact.identityKey, contact.verified]);

  async function mark(verified: boolean, scannedPayload?: string): Promise<void> {
    setError(null);
    const result = await getParley().invoke('safety.markVerified', { contact: contact.username, verified, ...(scannedPayload === undefined ? {} : { scannedPayload }) });
    if (result.ok) upsert(result.value);
    else setError(errorText(result.error));
  }

  function compare(event: FormEvent<HTMLFormElement>): void {
    event.preventDefault();
    void mark(true, scanned);
  }

  const groups = safety?.digits.match(/\d{5}/g) ?? [];
  return (
    <section className="safety-panel" aria-label={`Safety number with ${contact.username}`} data-testid="safety-panel">
      <header className="safety-header">
        <h3>Safety number</h3>
        <button type="button" onClick={onClose}>
          Close
        </button>
      </header>
      <p className="muted">
        Compare these numbers with {contact.username} in person or on a call, or scan their code. If they match, your conversation is end-to-end encrypted
        with the right person.
      </p>
      {safety === null ? null : (
        <>
          <div className="safety-digits" data-testid="safety-digits">
            {groups.map((group, at) => (
              <span key={at}>{group}</span>
            ))}
          </div>
          <img className="safety-qr" alt={`QR code of the safety number with ${contact.username}`} src={`data:image/svg+xml;charset=utf-8,${encodeURIComponent(safety.qrSvg)}`} />
          <p data-testid="safety-status">{contact.verified === true ? `✓ ${contact.username} is verified` : `${contact.username} is not verified`}</p>
          {contact.verified === true ? (
            <button type="button" onClick={() => void mark(false)}>
              Clear verification
            </button>
          ) : (
            <button type="button" className="primary" onClick={() => void mark(true)}>
              Mark as verified
            </button>
          )}
          <form className="safety-compare" onSubmit={compare}>
            <label htmlFor="safety-scanned">Scanned code (paste what the scanner read)</label>
            <input id="safety-scanned" value={scanned} onChange={(event) => setScanned(event.target.value)} placeholder="PARLEY-SAFETY-1:…" />
            <button type="submit" disabled={scanned.trim().length === 0}>
              Compare and verify
            </button>
          </form>
        </>
      )}
      <FormError message={error} />
    </section>
  );
}
