import { z } from 'zod';

/**
 * The devhost bridge's JSON messages: the IPC contract carried over a loopback WebSocket.
 * page -> host: BridgeRequest; host -> page: BridgeReply (id null when the request was unreadable) or BridgeEvent.
 */
export const BridgeRequest = z
  .object({
    id: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
    method: z.string().max(64),
    input: z.unknown().optional(),
  })
  .strict();
export type BridgeRequest = z.infer<typeof BridgeRequest>;

const ResultShape = z.union([
  z.object({ ok: z.literal(true), value: z.unknown() }),
  z.object({ ok: z.literal(false), error: z.object({ code: z.string(), message: z.string() }) }),
]);

export const BridgeReply = z.object({ id: z.number().int().nonnegative().nullable(), result: ResultShape });
export type BridgeReply = z.infer<typeof BridgeReply>;

export const BridgeEvent = z.object({ event: z.string(), payload: z.unknown() });
export type BridgeEvent = z.infer<typeof BridgeEvent>;

/** Path of the bridge WebSocket on the devhost. */
export const BRIDGE_PATH = '/bridge';
