import { create } from 'zustand';
import type { Contact, Result } from '../../../shared/index.js';
import { getParley } from '../parley.js';

interface ContactsStore {
  contacts: Contact[];
  selected: string | null;
  /** Messages that arrived for a conversation while it was not open. */
  unread: Record<string, number>;
  load(): Promise<void>;
  add(username: string): Promise<Result<Contact>>;
  upsert(contact: Contact): void;
  select(username: string): void;
  countUnread(username: string): void;
}

function byName(a: Contact, b: Contact): number {
  return a.username.localeCompare(b.username);
}

function merged(contacts: readonly Contact[], incoming: readonly Contact[]): Contact[] {
  const map = new Map(contacts.map((contact) => [contact.username, contact]));
  for (const contact of incoming) map.set(contact.username, contact);
  return [...map.values()].sort(byName);
}

export const useContacts = create<ContactsStore>()((set, get) => ({
  contacts: [],
  selected: null,
  unread: {},
  async load() {
    const result = await getParley().invoke('contacts.list', {});
    if (!result.ok) return;
    set((state) => ({ contacts: merged(state.contacts, result.value) }));
    const first = get().contacts[0];
    if (get().selected === null && first) get().select(first.username);
  },
  async add(username) {
    const result = await getParley().invoke('contacts.add', { username });
    if (result.ok) {
      get().upsert(result.value);
      get().select(result.value.username);
    }
    return result;
  },
  upsert(contact) {
    set((state) => ({ contacts: merged(state.contacts, [contact]) }));
  },
  select(username) {
    set((state) => ({ selected: username, unread: { ...state.unread, [username]: 0 } }));
  },
  countUnread(username) {
    if (get().selected === username) return;
    set((state) => ({ unread: { ...state.unread, [username]: (state.unread[username] ?? 0) + 1 } }));
  },
}));
