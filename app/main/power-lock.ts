import type { PowerMonitor } from 'electron';

/** Lock the profile when the computer sleeps or its screen locks; returns a function that stops watching. */
export function lockOnSystemEvents(powerMonitor: Pick<PowerMonitor, 'on' | 'off'>, lock: () => void): () => void {
  const onEvent = (): void => lock();
  powerMonitor.on('suspend', onEvent);
  powerMonitor.on('lock-screen', onEvent);
  return () => {
    powerMonitor.off('suspend', onEvent);
    powerMonitor.off('lock-screen', onEvent);
  };
}
