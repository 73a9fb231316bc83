import { useState, type FormEvent } from 'react';
import type { SearchHit } from '../../../shared/index.js';
import { errorText } from '../errorText.js';
import { getParley } from '../parley.js';
import { useContacts } from '../stores/contacts.js';
import { useMessages } from '../stores/messages.js';
import { FormError } from './FormError.js';

const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium' });

/** Full-text search over the history; a result opens its conversation at that message. */
export function SearchBox() {
  const [query, setQuery] = useState('');
  const [hits, setHits] = useState<SearchHit[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const select = useContacts((state) => state.select);
  const openAt = useMessages((state) => state.openAt);

  async function submit(event: FormEvent<HTMLFormElement>): Promise<void> {
    event.preventDefault();
    if (query.trim() === '') {
      setHits(null);
      return;
    }
    const result = await getParley().invoke('messages.search', { query });
    setError(result.ok ? null : errorText(result.error));
    setHits(result.ok ? result.value : null);
  }

  async function open(hit: SearchHit): Promise<void> {
    select(hit.message.contact);
    await openAt(hit.message.contact, { id: hit.message.id });
  }

  return (
    <div className="search">
      <form role="search" onSubmit={(event) => void submit(event)}>
        <input type="search" aria-label="Search messages" placeholder="Search (from: in: before: after:)" value={query} onChange={(event) => setQuery(event.target.value)} />
      </form>
      <FormError message={error} />
      {hits === null ? null : (
        <ul className="search-results" aria-label="Search results">
          {hits.length === 0 ? <li className="muted">Nothing found.</li> : null}
          {hits.map((hit) => (
            <li key={hit.message.id}>
              <button type="button" onClick={() => void open(hit)}>
                <span className="search-from">
                  {hit.message.contact} · {dateFormat.format(hit.message.sentAt)}
                </span>
                <span className="search-snippet">{hit.snippet}</span>
              </button>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
