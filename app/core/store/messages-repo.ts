import type { Message, MessageStatus } from '../../shared/domain.js';
import type { Db } from './db.js';

/** A messages row as selected with MESSAGE_COLUMNS. */
export interface MessageRow {
  id: string;
  contact: string;
  direction: Message['direction'];
  text: string;
  sent_at: number;
  status: MessageStatus;
  kind: NonNullable<Message['kind']>;
  error_code: string | null;
}

export const MESSAGE_COLUMNS = 'id, contact, direction, text, sent_at, status, kind, error_code';

export const messageFromRow = (row: MessageRow): Message => ({
  id: row.id,
  contact: row.contact,
  direction: row.direction,
  text: row.text,
  sentAt: row.sent_at,
  status: row.status,
  ...(row.kind === 'text' ? {} : { kind: row.kind }),
  ...(row.error_code === null ? {} : { errorCode: row.error_code }),
});

export class MessagesRepository {
  constructor(private readonly db: Db) {}

  /** Insert unless a message with this id exists (redelivery); true when a row was added. */
  insert(message: Message): boolean {
    const result = this.db
      .prepare(`INSERT OR IGNORE INTO messages (${MESSAGE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`)
      .run(message.id, message.contact, message.direction, message.text, message.sentAt, message.status, message.kind ?? 'text', message.errorCode ?? null);
    return result.changes > 0;
  }

  get(id: string): Message | undefined {
    const row = this.db.prepare<[string], MessageRow>(`SELECT ${MESSAGE_COLUMNS} FROM messages WHERE id = ?`).get(id);
    return row === undefined ? undefined : messageFromRow(row);
  }

  setStatus(id: string, status: MessageStatus): Message | undefined {
    this.db.prepare('UPDATE messages SET status = ? WHERE id = ?').run(status, id);
    return this.get(id);
  }

  /**
   * Move an outgoing message to `status` only from one of `from` (statuses only move forward: a late OK must
   * not turn a delivered message back into sent). The updated message, or undefined when nothing changed.
   */
  advanceStatus(id: string, status: MessageStatus, from: readonly MessageStatus[]): Message | undefined {
    const placeholders = from.map(() => '?').join(', ');
    const result = this.db
      .prepare(`UPDATE messages SET status = ? WHERE id = ? AND direction = 'out' AND status IN (${placeholders})`)
      .run(status, id, ...from);
    return result.changes > 0 ? this.get(id) : undefined;
  }

  /**
   * One page of a conversation in chronological order (by sentAt, then arrival): the newest `limit`
   * messages, or the newest before the message `before`. An unknown cursor yields an empty page.
   */
  page(contact: string, limit: number, before?: string): Message[] {
    let rows: MessageRow[];
    if (before === undefined) {
      rows = this.db
        .prepare<[string, number], MessageRow>(`SELECT ${MESSAGE_COLUMNS} FROM messages WHERE contact = ? ORDER BY sent_at DESC, seq DESC LIMIT ?`)
        .all(contact, limit);
    } else {
      rows = this.db
        .prepare<[{ contact: string; before: string; limit: number }], MessageRow>(
          `SELECT ${MESSAGE_COLUMNS} FROM messages
           WHERE contact = @contact
             AND (sent_at, seq) < (SELECT sent_at, seq FROM messages WHERE id = @before AND contact = @contact)
           ORDER BY sent_at DESC, seq DESC LIMIT @limit`,
        )
        .all({ contact, before, limit });
    }
    return rows.reverse().map(messageFromRow);
  }

  /** Outgoing messages not yet accepted by the relay, oldest first. */
  pendingIds(): string[] {
    return this.db
      .prepare<[], { id: string }>(`SELECT id FROM messages WHERE status = 'pending' AND direction = 'out' ORDER BY seq`)
      .all()
      .map((row) => row.id);
  }

  /** The sealed envelope of an outgoing message, written with the session state that produced it. */
  envelope(id: string): Uint8Array | undefined {
    const row = this.db.prepare<[string], { envelope: Uint8Array | null }>('SELECT envelope FROM messages WHERE id = ?').get(id);
    return row?.envelope === null || row === undefined ? undefined : Uint8Array.from(row.envelope);
  }

  setEnvelope(id: string, envelope: Uint8Array): void {
    this.db.prepare('UPDATE messages SET envelope = ? WHERE id = ?').run(envelope, id);
  }

  /** Once the relay holds it, the envelope is not needed here any more. */
  clearEnvelope(id: string): void {
    this.db.prepare('UPDATE messages SET envelope = NULL WHERE id = ?').run(id);
  }
}
