import { useEffect } from 'react';
import { missingCaseError } from '../../shared/index.js';
import { followCoreEvents, resyncWithCore } from './coreEvents.js';
import { getParley, isBridgeApi, isMissingBridgeToken } from './parley.js';
import { MainScreen } from './screens/MainScreen.js';
import { OnboardingScreen } from './screens/OnboardingScreen.js';
import { RecoveryKeyScreen } from './screens/RecoveryKeyScreen.js';
import { StatusScreen } from './screens/StatusScreen.js';
import { UnlockScreen } from './screens/UnlockScreen.js';
import { useSession } from './stores/session.js';

export function App() {
  const session = useSession((state) => state.session);
  const refresh = useSession((state) => state.refresh);

  useEffect(() => {
    const api = getParley();
    const stopEvents = followCoreEvents(api);
    // A restarted host may be a fresh, locked core: ask again rather than trust the cache.
    const stopReconnect = isBridgeApi(api) ? api.onReconnect(() => void resyncWithCore()) : () => undefined;
    void refresh();
    return () => {
      stopEvents();
      stopReconnect();
    };
  }, [refresh]);

  switch (session.state) {
    case 'loading':
      return (
        <StatusScreen title="Connecting to Parley…">
          {isMissingBridgeToken() ? 'Open the address that `npm run dev` printed, including its #token part.' : null}
        </StatusScreen>
      );
    case 'unavailable':
      return <StatusScreen title="Parley is not available">{session.message}</StatusScreen>;
    case 'none':
      return <OnboardingScreen defaultRelayUrl={session.relayUrl} />;
    case 'locked':
      return <UnlockScreen username={session.username} autoUnlock={session.autoUnlock} />;
    case 'unlocked':
      return session.recoveryPending ? <RecoveryKeyScreen recoveryKey={session.recoveryKey} /> : <MainScreen profile={session.profile} />;
    default:
      throw missingCaseError(session);
  }
}
