import { missingCaseError, type ConnectionState } from '../../../shared/index.js';
import { useConnection } from '../stores/connection.js';

function label(state: ConnectionState['state']): string {
  switch (state) {
    case 'online':
      return 'Online';
    case 'connecting':
      return 'Connecting…';
    case 'offline':
      return 'Offline';
    default:
      throw missingCaseError(state);
  }
}

/** Whether the relay is reachable right now; messages queue while it is not. */
export function ConnectionIndicator() {
  const connection = useConnection((state) => state.connection);
  return (
    <p className={`connection connection-${connection.state}`} role="status" title={connection.error?.message}>
      <span className="connection-dot" aria-hidden="true" />
      {label(connection.state)}
    </p>
  );
}
