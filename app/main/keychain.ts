import type { SafeStorage } from 'electron';
import type { KeychainPort } from '../core/vault/keychain.js';
import { ParleyError } from '../shared/errors.js';

type SafeStorageLike = Pick<SafeStorage, 'isEncryptionAvailable' | 'encryptString' | 'decryptString' | 'getSelectedStorageBackend'>;

/**
 * The OS keychain through Electron's safeStorage (Keychain on macOS, DPAPI on Windows, libsecret or
 * KWallet on Linux). On Linux, the 'basic_text' backend seals with a key written in Chromium's source:
 * that is plaintext with extra steps, so it is refused rather than used.
 */
export function safeStorageKeychain(safeStorage: SafeStorageLike, platform: NodeJS.Platform = process.platform): KeychainPort {
  const availability: KeychainPort['availability'] = () => {
    if (!safeStorage.isEncryptionAvailable()) return { available: false, reason: 'The system keychain is not available on this computer' };
    if (platform === 'linux') {
      const backend = safeStorage.getSelectedStorageBackend();
      if (backend === 'basic_text') {
        return {
          available: false,
          reason: 'No secret service (GNOME Keyring or KWallet) is running, so the key would be stored with a publicly known key; automatic unlock stays off',
        };
      }
      if (backend === 'unknown') return { available: false, reason: 'The system keychain is not ready yet' };
    }
    return { available: true };
  };
  const require = (): void => {
    const state = availability();
    if (!state.available) throw new ParleyError('KEYCHAIN_UNAVAILABLE', state.reason);
  };
  return {
    availability,
    seal(secret) {
      require();
      try {
        return Uint8Array.from(safeStorage.encryptString(Buffer.from(secret).toString('base64')));
      } catch {
        throw new ParleyError('KEYCHAIN_UNAVAILABLE', 'The system keychain refused to store the key');
      }
    },
    open(sealed) {
      require();
      try {
        return Uint8Array.from(Buffer.from(safeStorage.decryptString(Buffer.from(sealed)), 'base64'));
      } catch {
        throw new ParleyError('KEYCHAIN_UNAVAILABLE', 'The system keychain could not open the key; unlock with your passphrase');
      }
    },
  };
}
