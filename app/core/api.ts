import type { ParleyApi } from '../shared/api.js';
import type { MethodName, MethodOutput, MethodParsedInput } from '../shared/contract.js';
import { ok, fail, toErrorShape, type Result } from '../shared/result.js';
import { validateInvocation } from '../shared/validate.js';
import type { CoreEvents } from './events.js';
import type { AccountService } from './services/account.js';
import type { BackupActions } from './services/backup-actions.js';
import { exportConversation } from './services/conversation-export.js';

/** Calls that do not count as the user being active (the UI polls them). */
const PASSIVE_METHODS = new Set<MethodName>(['profile.status', 'connection.status']);

type Handlers = { [M in MethodName]: (input: MethodParsedInput<M>) => Promise<MethodOutput<M>> | MethodOutput<M> };

/** The contract's method table over the services. A mapped type, so a missing method does not compile. */
function handlers(account: AccountService, backups: BackupActions): Handlers {
  return {
    'profile.status': () => account.status(),
    'profile.create': (input) => account.create(input),
    'profile.unlock': (input) => account.unlock(input.passphrase),
    'contacts.list': () => account.requireSession().contacts.list(),
    'contacts.add': (input) => account.requireSession().contacts.add(input.username),
    'messages.list': (input) => account.requireSession().messages.list(input.contact, input.before, input.limit),
    'messages.send': (input) => account.requireSession().messages.send(input.contact, input.text),
    'connection.status': () => account.session?.context.relay.state ?? { state: 'offline' },
    'safety.get': (input) => account.requireSession().safety.get(input.contact),
    'safety.markVerified': (input) => account.requireSession().safety.markVerified(input.contact, input.verified, input.scannedPayload),
    'contacts.acknowledgeIdentity': (input) => account.requireSession().safety.acknowledgeIdentity(input.contact),
    'profile.confirmRecoveryKey': (input) => account.confirmRecoveryKey(input.recoveryKey),
    'profile.recover': (input) => account.recover(input.recoveryKey, input.newPassphrase),
    'profile.changePassphrase': (input) => account.changePassphrase(input.passphrase, input.newPassphrase),
    'profile.lock': async () => {
      await account.lock('user');
      return {};
    },
    'profile.unlockAuto': () => account.unlockAuto(),
    'settings.get': () => account.settings(),
    'settings.setAutoLock': (input) => account.setAutoLock(input.minutes),
    'keychain.enable': (input) => account.enableKeychain(input.passphrase),
    'keychain.disable': () => account.disableKeychain(),
    'messages.search': (input) => account.requireSession().history.search(input.query, input.limit),
    'messages.around': (input) =>
      account.requireSession().history.around(input.contact, input.id !== undefined ? { id: input.id } : { at: input.at ?? 0 }, input.limit),
    'profile.newRecoveryKey': (input) => account.newRecoveryKey(input.passphrase),
    'messages.exportConversation': async (input) => {
      const session = account.requireSession();
      await account.verifyPassphrase(input.passphrase);
      return exportConversation(session.context.db, session.context.username, input.contact, input.format);
    },
    'registrationLock.status': () => account.requireSession().registrationLock.status(),
    'registrationLock.setup': () => account.requireSession().registrationLock.setup(),
    'registrationLock.enable': (input) => account.requireSession().registrationLock.enable(input.code),
    'registrationLock.disable': (input) => account.requireSession().registrationLock.disable(input.code),
    'backup.export': (input) => backups.exportToShelf(input),
    'backup.sources': () => backups.sources(),
    'backup.restore': (input) => backups.restoreFromShelf(input),
  };
}

async function dispatch<M extends MethodName>(table: Handlers, method: M, input: MethodParsedInput<M>): Promise<MethodOutput<M>> {
  return table[method](input);
}

/** ParleyApi over the core: validates every call (hosts are not trusted), never throws, returns Result. */
export function createApi(account: AccountService, backups: BackupActions, events: CoreEvents): ParleyApi {
  const table = handlers(account, backups);
  return {
    async invoke<M extends MethodName>(method: M, input: unknown): Promise<Result<MethodOutput<M>>> {
      try {
        const call = validateInvocation(method, input);
        if (!PASSIVE_METHODS.has(call.method)) account.touch();
        return ok((await dispatch(table, call.method, call.input)) as MethodOutput<M>);
      } catch (error) {
        return fail(toErrorShape(error));
      }
    },
    on: (event, listener) => events.on(event, listener),
  };
}
