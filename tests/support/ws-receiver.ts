import { createRequire } from 'node:module';

/** ws's own frame parser, as a client runs it: what the relay writes is read the way its clients read it. */
export interface WsReceiver {
  write(chunk: Uint8Array): boolean;
  on(event: 'message', listener: (data: Buffer, isBinary: boolean) => void): this;
  on(event: 'error', listener: (error: Error) => void): this;
}

interface ReceiverOptions {
  readonly isServer: boolean;
  readonly maxPayload: number;
}

// ws exports its Receiver (lib/receiver.js) but @types/ws does not declare it.
const { Receiver } = createRequire(import.meta.url)('ws') as { Receiver: new (options: ReceiverOptions) => WsReceiver };

/** A client-side receiver: unmasked frames only, of any size. */
export function clientReceiver(): WsReceiver {
  return new Receiver({ isServer: false, maxPayload: 0 });
}
