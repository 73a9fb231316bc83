import { create } from 'zustand';
import { missingCaseError, type CreatedProfile, type MethodInput, type ProfileInfo, type Result } from '../../../shared/index.js';
import { errorText } from '../errorText.js';
import { getParley } from '../parley.js';

export type Session =
  | { state: 'loading' }
  | { state: 'unavailable'; message: string }
  | { state: 'none'; relayUrl: string }
  | { state: 'locked'; username: string; relayUrl: string; autoUnlock: boolean }
  /** recoveryPending: the recovery key shown at setup must be retyped before the profile is usable */
  | { state: 'unlocked'; profile: ProfileInfo; recoveryPending: boolean; recoveryKey: string | null };

interface SessionStore {
  session: Session;
  refresh(): Promise<void>;
  createProfile(input: MethodInput<'profile.create'>): Promise<Result<CreatedProfile>>;
  unlock(passphrase: string): Promise<Result<ProfileInfo>>;
  unlockAuto(): Promise<Result<ProfileInfo>>;
  recover(recoveryKey: string, newPassphrase: string): Promise<Result<ProfileInfo>>;
  confirmRecoveryKey(recoveryKey: string): Promise<Result<unknown>>;
  lock(): Promise<void>;
  /** Replace the recovery key; the new one is shown and must be retyped, as at setup. */
  newRecoveryKey(passphrase: string): Promise<Result<{ recoveryKey: string }>>;
}

/** Which profile exists and whether it is unlocked; always as core last reported it. */
export const useSession = create<SessionStore>()((set, get) => {
  const unlocked = <T extends ProfileInfo>(result: Result<T>): Result<T> => {
    if (result.ok) set({ session: { state: 'unlocked', profile: { username: result.value.username, relayUrl: result.value.relayUrl }, recoveryPending: false, recoveryKey: null } });
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
      const { state, username = '', relayUrl = '', recoveryKeyPending = false, autoUnlock = false } = result.value;
      switch (state) {
        case 'none':
          set({ session: { state, relayUrl } });
          return;
        case 'locked':
          set({ session: { state, username, relayUrl, autoUnlock } });
          return;
        case 'unlocked': {
          const current = get().session;
          const recoveryKey = current.state === 'unlocked' ? current.recoveryKey : null;
          set({ session: { state, profile: { username, relayUrl }, recoveryPending: recoveryKeyPending, recoveryKey } });
          return;
        }
        default:
          throw missingCaseError(state);
      }
    },
    async createProfile(input) {
      const result = await getParley().invoke('profile.create', input);
      if (result.ok) {
        const { username, relayUrl, recoveryKey } = result.value;
        set({ session: { state: 'unlocked', profile: { username, relayUrl }, recoveryPending: true, recoveryKey } });
      }
      return result;
    },
    async unlock(passphrase) {
      return unlocked(await getParley().invoke('profile.unlock', { passphrase }));
    },
    async unlockAuto() {
      return unlocked(await getParley().invoke('profile.unlockAuto', {}));
    },
    async recover(recoveryKey, newPassphrase) {
      return unlocked(await getParley().invoke('profile.recover', { recoveryKey, newPassphrase }));
    },
    async confirmRecoveryKey(recoveryKey) {
      const result = await getParley().invoke('profile.confirmRecoveryKey', { recoveryKey });
      const current = get().session;
      if (result.ok && current.state === 'unlocked') set({ session: { ...current, recoveryPending: false, recoveryKey: null } });
      return result;
    },
    async newRecoveryKey(passphrase) {
      const result = await getParley().invoke('profile.newRecoveryKey', { passphrase });
      const current = get().session;
      if (result.ok && current.state === 'unlocked') set({ session: { ...current, recoveryPending: true, recoveryKey: result.value.recoveryKey } });
      return result;
    },
    async lock() {
      await getParley().invoke('profile.lock', {});
      await get().refresh();
    },
  };
});
