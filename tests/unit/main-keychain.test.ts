import { describe, expect, it, vi } from 'vitest';
import { safeStorageKeychain } from '../../app/main/keychain.js';
import { lockOnSystemEvents } from '../../app/main/power-lock.js';
import { EventEmitter } from 'node:events';
import { codeOf } from '../support/error-code.js';

type Backend = 'basic_text' | 'gnome_libsecret' | 'kwallet' | 'kwallet5' | 'kwallet6' | 'unknown';

/** Stands in for electron's safeStorage: "encrypts" by reversing and tagging, so a test sees the bytes changed hands. */
function fakeSafeStorage(backend: Backend, available = true) {
  return {
    isEncryptionAvailable: vi.fn(() => available),
    getSelectedStorageBackend: vi.fn((): Backend => backend),
    encryptString: vi.fn((text: string) => Buffer.from(`sealed:${[...text].reverse().join('')}`)),
    decryptString: vi.fn((sealed: Buffer) => {
      const text = sealed.toString();
      if (!text.startsWith('sealed:')) throw new Error('bad');
      return [...text.slice(7)].reverse().join('');
    }),
  };
}

describe('safeStorage keychain', () => {
  it('seals and opens through safeStorage with a real backend', () => {
    const storage = fakeSafeStorage('gnome_libsecret');
    const keychain = safeStorageKeychain(storage, 'linux');
    const secret = Uint8Array.from({ length: 32 }, (_, i) => i);
    const sealed = keychain.seal(secret);
    expect(storage.encryptString).toHaveBeenCalledOnce();
    expect(Buffer.from(sealed).includes(Buffer.from(secret))).toBe(false);
    expect(keychain.open(sealed)).toEqual(secret);
  });

  it("refuses Linux's basic_text backend, says why, and never calls encryptString", () => {
    const storage = fakeSafeStorage('basic_text');
    const keychain = safeStorageKeychain(storage, 'linux');
    const availability = keychain.availability();
    expect(availability.available).toBe(false);
    expect(availability.available ? '' : availability.reason).toMatch(/GNOME Keyring or KWallet/);
    expect(codeOf(() => keychain.seal(new Uint8Array(32)))).toBe('KEYCHAIN_UNAVAILABLE');
    expect(storage.encryptString).not.toHaveBeenCalled();
  });

  it('refuses when encryption is unavailable, and on a backend that is not ready', () => {
    expect(safeStorageKeychain(fakeSafeStorage('kwallet5', false), 'linux').availability().available).toBe(false);
    expect(safeStorageKeychain(fakeSafeStorage('unknown'), 'linux').availability().available).toBe(false);
    // The backend question is Linux-only: macOS Keychain and Windows DPAPI are always real stores.
    expect(safeStorageKeychain(fakeSafeStorage('basic_text'), 'darwin').availability()).toEqual({ available: true });
  });

  it('turns a failed decryption into KEYCHAIN_UNAVAILABLE', () => {
    const keychain = safeStorageKeychain(fakeSafeStorage('kwallet6'), 'linux');
    expect(codeOf(() => keychain.open(Uint8Array.of(1, 2, 3)))).toBe('KEYCHAIN_UNAVAILABLE');
  });
});

describe('system lock events', () => {
  it('locks on suspend and on lock-screen, and stops when told', () => {
    const monitor = new EventEmitter();
    const lock = vi.fn();
    const stop = lockOnSystemEvents(monitor as never, lock);
    monitor.emit('suspend');
    monitor.emit('lock-screen');
    expect(lock).toHaveBeenCalledTimes(2);
    stop();
    monitor.emit('suspend');
    expect(lock).toHaveBeenCalledTimes(2);
  });
});
