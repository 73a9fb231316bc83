import sodium from 'libsodium-wrappers-sumo';

/** The libsodium handle every crypto function takes as its first argument. */
export type Sodium = typeof sodium;

let loading: Promise<Sodium> | undefined;

/** Resolve the initialised libsodium (sumo build: Argon2id and the KDFs live there). */
export function loadSodium(): Promise<Sodium> {
  loading ??= sodium.ready.then(() => sodium);
  return loading;
}
