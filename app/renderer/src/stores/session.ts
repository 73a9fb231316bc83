import { create } from 'zustand';
import { missingCaseError, type MethodInput, type ProfileInfo, type Result } from '../../../shared/index.js';
import { errorText } from '../errorText.js';
import { getParley } from '../parley.js';

export type Session =
  | { state: 'loading' }
  | { state: 'unavailable'; message: string }
  | { state: 'none'; relayUrl: string }
  | { state: 'locked'; username: string; relayUrl: string }
  | { state: 'unlocked'; profile: ProfileInfo };

interface SessionStore {
  session: Session;
  refresh(): Promise<void>;
  createProfile(input: MethodInput<'profile.create'>): Promise<Result<ProfileInfo>>;
  unlock(passphrase: string): Promise<Result<ProfileInfo>>;
}

/** Which profile exists and whether it is unlocked; always as core last reported it. */
export const useSession = create<SessionStore>()((set) => {
  const unlocked = (result: Result<ProfileInfo>): Result<ProfileInfo> => {
    if (result.ok) set({ session: { state: 'unlocked', profile: result.value } });
    return result;
  };
  return {
    session: { state: 'loading' },
    async refresh() {
      const result = await getParley().invoke('profile.status', {});
      if (!result.ok) {
        set({ session: { state: 'unavailable', message: errorText(result.error) } });
        return;
      }
      const { state, username = '', relayUrl = '' } = result.value;
      switch (state) {
        case 'none':
          set({ session: { state, relayUrl } });
          return;
        case 'locked':
          set({ session: { state, username, relayUrl } });
          return;
        case 'unlocked':
          set({ session: { state, profile: { username, relayUrl } } });
          return;
        default:
          throw missingCaseError(state);
      }
    },
    async createProfile(input) {
      return unlocked(await getParley().invoke('profile.create', input));
    },
    async unlock(passphrase) {
      return unlocked(await getParley().invoke('profile.unlock', { passphrase }));
    },
  };
});
