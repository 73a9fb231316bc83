/** The ping interval is spread over steps this long, each pinging its own slice of the connections. */
export const HEARTBEAT_STEP_MS = 100;

/** What the heartbeat needs of a connection. */
export interface Beating {
  readonly id: number;
  /** Cut it off if it did not answer the last ping; ping it. */
  heartbeat(): void;
}

/**
 * Pings every connection once per interval, a slice at a time: a connection's id picks its step, so its pings stay
 * one interval apart. All at once, 15,000 connections had held the event loop for about 0.6 s every interval (a
 * ping each, a ban check each, then 15,000 pongs). Returns the function that stops it.
 */
export function startHeartbeat(connections: Iterable<Beating>, intervalMs: number): () => void {
  const steps = Math.max(1, Math.floor(intervalMs / HEARTBEAT_STEP_MS));
  let step = 0;
  const timer = setInterval(() => {
    // A pass over all of them costs 3 to 6 ns a connection (0.1 ms for 15,000); the pings are what must be spread.
    for (const connection of connections) if (connection.id % steps === step) connection.heartbeat();
    step = (step + 1) % steps;
  }, intervalMs / steps);
  return () => clearInterval(timer);
}
