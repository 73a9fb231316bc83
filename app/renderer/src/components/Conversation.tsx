import { useEffect, useLayoutEffect, useRef, useState } from 'react';
import type { Contact } from '../../../shared/index.js';
import { NO_MESSAGES, useMessages } from '../stores/messages.js';
import { Avatar } from './Avatar.js';
import { Composer } from './Composer.js';
import { IdentityChangedBanner } from './IdentityChangedBanner.js';
import { SafetyNumberPanel } from './SafetyNumberPanel.js';
import { MessageBubble } from './MessageBubble.js';

/** Groups of four hex digits, the way people compare keys aloud. */
function fingerprint(identityKey: string): string {
  return (identityKey.slice(0, 32).match(/.{1,4}/g) ?? []).join(' ');
}

export function Conversation({ contact }: { contact: Contact }) {
  const messages = useMessages((state) => state.byContact[contact.username] ?? NO_MESSAGES);
  const load = useMessages((state) => state.load);
  const focused = useMessages((state) => state.focused);
  const openAt = useMessages((state) => state.openAt);
  const listRef = useRef<HTMLOListElement>(null);
  const [showSafety, setShowSafety] = useState(false);

  useEffect(() => setShowSafety(false), [contact.username]);
  const [date, setDate] = useState('');

  useEffect(() => {
    void load(contact.username);
  }, [contact.username, load]);

  useLayoutEffect(() => {
    const list = listRef.current;
    if (!list) return;
    const target = focused === null ? null : list.querySelector(`[data-message-id="${focused}"]`);
    if (target !== null) target.scrollIntoView({ block: 'center' });
    else list.scrollTop = list.scrollHeight;
  }, [messages.length, contact.username, focused]);

  return (
    <section className="conversation" aria-labelledby="conversation-title">
      <header className="conversation-header">
        <Avatar name={contact.username} />
        <div>
          <h2 id="conversation-title">{contact.username}</h2>
          <p className="muted key" title={contact.identityKey}>
            Identity key {fingerprint(contact.identityKey)}…
            {contact.verified === true ? <span className="verified-badge"> · ✓ Verified</span> : null}
          </p>
        </div>
        <div className="header-actions">
          <button type="button" className="safety-button" onClick={() => setShowSafety((shown) => !shown)} aria-expanded={showSafety}>
            Safety number
          </button>
          <label className="jump">
            Jump to date{' '}
            <input
              type="date"
              value={date}
              onChange={(event) => {
                setDate(event.target.value);
                const at = Date.parse(`${event.target.value}T00:00:00Z`);
                if (Number.isFinite(at)) void openAt(contact.username, { at });
              }}
            />
          </label>
        </div>
      </header>
      {contact.identityChanged === true ? <IdentityChangedBanner contact={contact} onShowSafety={() => setShowSafety(true)} /> : null}
      {showSafety ? <SafetyNumberPanel contact={contact} onClose={() => setShowSafety(false)} /> : null}
      <ol className="messages" ref={listRef} role="log" aria-label={`Messages with ${contact.username}`} aria-live="polite">
        {messages.length === 0 ? (
          <li className="messages-empty muted">No messages yet. Say hello.</li>
        ) : (
          messages.map((message) => <MessageBubble key={message.id} message={message} focused={message.id === focused} />)
        )}
      </ol>
      <Composer key={contact.username} contact={contact.username} />
    </section>
  );
}
