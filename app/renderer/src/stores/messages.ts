import { create } from 'zustand';
import type { Message, Result } from '../../../shared/index.js';
import { getParley } from '../parley.js';

/** One stable empty list, so selectors for a conversation without messages return the same reference. */
export const NO_MESSAGES: readonly Message[] = Object.freeze([]);

interface MessagesStore {
  byContact: Record<string, readonly Message[]>;
  load(contact: string): Promise<void>;
  send(contact: string, text: string): Promise<Result<Message>>;
  upsert(message: Message): void;
  /** the message a search result or a date jump asked to show */
  focused: string | null;
  /** Load the page around a message (search result) or a time (jump to date) and focus it. */
  openAt(contact: string, anchor: { id: string } | { at: number }): Promise<void>;
}

function merged(messages: readonly Message[], incoming: readonly Message[]): Message[] {
  const map = new Map(messages.map((message) => [message.id, message]));
  for (const message of incoming) map.set(message.id, message);
  return [...map.values()].sort((a, b) => a.sentAt - b.sentAt);
}

/** Each conversation's messages, merged by id so events and list results never duplicate. */
export const useMessages = create<MessagesStore>()((set, get) => ({
  byContact: {},
  focused: null,
  async openAt(contact, anchor) {
    const result = await getParley().invoke('messages.around', { contact, ...anchor });
    if (!result.ok) return;
    const focused = 'id' in anchor ? anchor.id : (result.value.find((message) => message.sentAt >= anchor.at)?.id ?? result.value.at(-1)?.id ?? null);
    set((state) => ({ focused, byContact: { ...state.byContact, [contact]: merged(state.byContact[contact] ?? NO_MESSAGES, result.value) } }));
  },
  async load(contact) {
    const result = await getParley().invoke('messages.list', { contact });
    if (!result.ok) return;
    set((state) => ({
      byContact: { ...state.byContact, [contact]: merged(state.byContact[contact] ?? NO_MESSAGES, result.value) },
    }));
  },
  async send(contact, text) {
    const result = await getParley().invoke('messages.send', { contact, text });
    if (result.ok) get().upsert(result.value);
    return result;
  },
  upsert(message) {
    set((state) => ({
      byContact: {
        ...state.byContact,
        [message.contact]: merged(state.byContact[message.contact] ?? NO_MESSAGES, [message]),
      },
    }));
  },
}));
