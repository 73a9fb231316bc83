import { useEffect } from 'react';
import type { ProfileInfo } from '../../../shared/index.js';
import { AddContactForm } from '../components/AddContactForm.js';
import { Avatar } from '../components/Avatar.js';
import { ConnectionIndicator } from '../components/ConnectionIndicator.js';
import { ContactList } from '../components/ContactList.js';
import { Conversation } from '../components/Conversation.js';
import { useConnection } from '../stores/connection.js';
import { useContacts } from '../stores/contacts.js';

export function MainScreen({ profile }: { profile: ProfileInfo }) {
  const loadContacts = useContacts((state) => state.load);
  const loadConnection = useConnection((state) => state.load);
  const selected = useContacts((state) => state.contacts.find((contact) => contact.username === state.selected));

  useEffect(() => {
    void loadContacts();
    void loadConnection();
  }, [loadContacts, loadConnection]);

  return (
    <div className="workspace">
      <aside className="sidebar" aria-label="Contacts">
        <header className="sidebar-header">
          <Avatar name={profile.username} />
          <div className="me">
            <p className="me-name">{profile.username}</p>
            <ConnectionIndicator />
          </div>
        </header>
        <AddContactForm />
        <ContactList />
      </aside>
      <main className="pane">
        {selected ? (
          <Conversation contact={selected} />
        ) : (
          <div className="pane-empty">
            <h2>No conversation open</h2>
            <p className="muted">Add a contact by their username to start an end-to-end encrypted conversation.</p>
          </div>
        )}
      </main>
    </div>
  );
}
