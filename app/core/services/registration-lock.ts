import type { RegistrationLockSetup, RegistrationLockStatus } from '../../shared/domain.js';
import { ParleyError } from '../../shared/errors.js';
import { REGISTRATION_LOCK_FAILURES } from '../net/authenticate.js';
import { relayFailure } from '../net/errors.js';
import type { RelayRequest } from '../net/relay-session.js';
import { SettingsRepository } from '../store/settings-repo.js';
import type { ProfileContext } from './context.js';
import { qrSvg } from './qr-svg.js';

/** The relay has no frame that reports the lock, so the profile remembers what it last turned on or off. */
const ENABLED_SETTING = 'registrationLockEnabled';

/** The registration lock: a TOTP code is then needed to move this username to new keys. */
export class RegistrationLockService {
  readonly #settings: SettingsRepository;

  constructor(private readonly ctx: ProfileContext) {
    this.#settings = new SettingsRepository(ctx.db);
  }

  status(): RegistrationLockStatus {
    return { enabled: this.#settings.getNumber(ENABLED_SETTING, 0) === 1 };
  }

  /** A fresh secret for the authenticator app; the lock stays as it was until enable() confirms a code. */
  async setup(): Promise<RegistrationLockSetup> {
    const reply = await this.#request({ name: 'TOTP_SETUP' });
    if (reply.name !== 'TOTP_SECRET') throw new ParleyError('RELAY_PROTOCOL_ERROR', `The relay answered TOTP_SETUP with ${reply.name}`);
    return { uri: reply.uri, secret: reply.secret, qrSvg: await qrSvg(reply.uri) };
  }

  /** Turn the lock on with a current code for the secret from setup(). */
  async enable(code: string): Promise<RegistrationLockStatus> {
    await this.#request({ name: 'TOTP_ENABLE', code });
    this.remember(true);
    return this.status();
  }

  async disable(code: string): Promise<RegistrationLockStatus> {
    try {
      await this.#request({ name: 'TOTP_DISABLE', code });
    } catch (error) {
      // The relay knows best: a lock it does not have is off here too.
      if (error instanceof ParleyError && error.code === 'REGLOCK_NOT_ENABLED') this.remember(false);
      throw error;
    }
    this.remember(false);
    return this.status();
  }

  remember(enabled: boolean): void {
    this.#settings.setNumber(ENABLED_SETTING, enabled ? 1 : 0);
  }

  async #request(frame: RelayRequest): ReturnType<ProfileContext['relay']['request']> {
    try {
      return await this.ctx.relay.request(frame);
    } catch (error) {
      throw relayFailure(error, REGISTRATION_LOCK_FAILURES);
    }
  }
}
