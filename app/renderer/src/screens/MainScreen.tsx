import { useEffect, useState } from 'react';
import type { ProfileInfo } from '../../../shared/index.js';
import { AddContactForm } from '../components/AddContactForm.js';
import { Avatar } from '../components/Avatar.js';
import { ConnectionIndicator } from '../components/ConnectionIndicator.js';
import { ContactList } from '../components/ContactList.js';
import { Conversation } from '../components/Conversation.js';
import { SearchBox } from '../components/SearchBox.js';
import { SettingsPanel } from '../components/SettingsPanel.js';
import { useSession } from '../stores/session.js';
import { useConnection } from '../stores/connection.js';
import { useContacts } from '../stores/contacts.js';

export function MainScreen({ profile }: { profile: ProfileInfo }) {
  const loadContacts = useContacts((state) => state.load);
  const loadConnection = useConnection((state) => state.load);
  const selected = useContacts((state) => state.contacts.find((contact) => contact.username === state.selected));
  const selectedName = useContacts((state) => state.selected);
  const lock = useSession((state) => state.lock);
  const [showSettings, setShowSettings] = useState(false);

  // Choosing a conversation (from the list or a search result) leaves the settings.
  useEffect(() => setShowSettings(false), [selectedName]);

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
            <p className="me-name" title={profile.username}>{profile.username}</p>
            <ConnectionIndicator />
          </div>
          <div className="header-actions">
            <button type="button" onClick={() => setShowSettings((shown) => !shown)} aria-pressed={showSettings}>
              Settings
            </button>
            <button type="button" onClick={() => void lock()}>
              Lock
            </button>
          </div>
        </header>
        <SearchBox />
        <AddContactForm />
        <ContactList />
      </aside>
      <main className="pane">
        {showSettings ? (
          <SettingsPanel username={profile.username} />
        ) : selected ? (
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
