const STORAGE_KEY = 'parley.bridgeToken';
const TOKEN_PATTERN = /^[A-Za-z0-9_-]{16,128}$/;

let taken: string | null | undefined;

function readToken(): string | null {
  const fromHash = new URLSearchParams(window.location.hash.slice(1)).get('token');
  if (fromHash !== null && TOKEN_PATTERN.test(fromHash)) {
    window.sessionStorage.setItem(STORAGE_KEY, fromHash);
    window.history.replaceState(null, '', window.location.pathname + window.location.search);
    return fromHash;
  }
  const stored = window.sessionStorage.getItem(STORAGE_KEY);
  return stored !== null && TOKEN_PATTERN.test(stored) ? stored : null;
}

/**
 * The devhost prints its address as http://127.0.0.1:PORT/#token=T. Take T once, keep it for this tab
 * (so reload works), and drop it from the address bar so it is not left in history or screenshots.
 */
export function takeBridgeToken(): string | null {
  if (taken === undefined) taken = readToken();
  return taken;
}
