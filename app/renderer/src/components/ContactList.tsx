import { useContacts } from '../stores/contacts.js';
import { Avatar } from './Avatar.js';

export function ContactList() {
  const contacts = useContacts((state) => state.contacts);
  const selected = useContacts((state) => state.selected);
  const unread = useContacts((state) => state.unread);
  const select = useContacts((state) => state.select);

  if (contacts.length === 0) return <p className="sidebar-empty muted">No contacts yet.</p>;
  return (
    <nav className="contact-list" aria-label="Conversations">
      <ul>
        {contacts.map((contact) => {
          const count = unread[contact.username] ?? 0;
          return (
            <li key={contact.username}>
              <button
                type="button"
                className="contact"
                aria-current={contact.username === selected ? 'true' : undefined}
                onClick={() => select(contact.username)}
              >
                <Avatar name={contact.username} />
                <span className="contact-name">{contact.username}</span>
                {count > 0 ? (
                  <span className="badge" aria-label={`${count} unread`}>
                    {count}
                  </span>
                ) : null}
              </button>
            </li>
          );
        })}
      </ul>
    </nav>
  );
}
