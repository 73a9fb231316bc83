import { create } from 'zustand';
import type { ConnectionState } from '../../../shared/index.js';
import { getParley } from '../parley.js';

interface ConnectionStore {
  connection: ConnectionState;
  load(): Promise<void>;
  set(connection: ConnectionState): void;
}

/** The relay connection as core reports it (connection.status, then connection.changed events). */
export const useConnection = create<ConnectionStore>()((set) => ({
  connection: { state: 'connecting' },
  async load() {
    const result = await getParley().invoke('connection.status', {});
    if (result.ok) set({ connection: result.value });
  },
  set(connection) {
    set({ connection });
  },
}));
