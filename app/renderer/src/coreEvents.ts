import type { ParleyApi } from '../../shared/index.js';
import { useConnection } from './stores/connection.js';
import { useContacts } from './stores/contacts.js';
import { useMessages } from './stores/messages.js';
import { useSession } from './stores/session.js';

/** Feed core's events into the stores; returns the function that stops it. */
export function followCoreEvents(api: ParleyApi): () => void {
  const stops = [
    api.on('message.added', (message) => {
      useMessages.getState().upsert(message);
      const contacts = useContacts.getState();
      if (!contacts.contacts.some((contact) => contact.username === message.contact)) void contacts.load();
      if (message.direction === 'in') contacts.countUnread(message.contact);
    }),
    api.on('message.updated', (message) => useMessages.getState().upsert(message)),
    api.on('contact.added', (contact) => useContacts.getState().upsert(contact)),
    api.on('contact.updated', (contact) => useContacts.getState().upsert(contact)),
    api.on('connection.changed', (connection) => useConnection.getState().set(connection)),
    api.on('profile.locked', () => void useSession.getState().refresh()),
  ];
  return () => {
    for (const stop of stops) stop();
  };
}

/** After the host connection comes back: refetch everything an event may have carried while it was down. */
export async function resyncWithCore(): Promise<void> {
  await useSession.getState().refresh();
  if (useSession.getState().session.state !== 'unlocked') return;
  await Promise.all([useContacts.getState().load(), useConnection.getState().load()]);
  const selected = useContacts.getState().selected;
  if (selected !== null) await useMessages.getState().load(selected);
}
