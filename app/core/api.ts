import type { ParleyApi } from '../shared/api.js';
import type { MethodName, MethodOutput, MethodParsedInput } from '../shared/contract.js';
import { ok, fail, toErrorShape, type Result } from '../shared/result.js';
import { validateInvocation } from '../shared/validate.js';
import type { CoreEvents } from './events.js';
import type { AccountService } from './services/account.js';

type Handlers = { [M in MethodName]: (input: MethodParsedInput<M>) => Promise<MethodOutput<M>> | MethodOutput<M> };

/** The contract's method table over the services. A mapped type, so a missing method does not compile. */
function handlers(account: AccountService): Handlers {
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
  };
}

async function dispatch<M extends MethodName>(table: Handlers, method: M, input: MethodParsedInput<M>): Promise<MethodOutput<M>> {
  return table[method](input);
}

/** ParleyApi over the core: validates every call (hosts are not trusted), never throws, returns Result. */
export function createApi(account: AccountService, events: CoreEvents): ParleyApi {
  const table = handlers(account);
  return {
    async invoke<M extends MethodName>(method: M, input: unknown): Promise<Result<MethodOutput<M>>> {
      try {
        const call = validateInvocation(method, input);
        return ok((await dispatch(table, call.method, call.input)) as MethodOutput<M>);
      } catch (error) {
        return fail(toErrorShape(error));
      }
    },
    on: (event, listener) => events.on(event, listener),
  };
}
