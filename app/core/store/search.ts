import type { Message, SearchHit } from '../../shared/domain.js';
import type { Db } from './db.js';
import { MESSAGE_COLUMNS, messageFromRow, type MessageRow } from './messages-repo.js';
import { ftsExpression, type SearchQuery } from './search-query.js';

interface HitRow {
  id: string;
  contact: string;
  direction: Message['direction'];
  text: string;
  sent_at: number;
  status: Message['status'];
  snippet: string;
}

const toHit = (row: HitRow): SearchHit => ({
  message: { id: row.id, contact: row.contact, direction: row.direction, text: row.text, sentAt: row.sent_at, status: row.status },
  snippet: row.snippet,
});

/** Full-text search over the history (FTS5, inside the encrypted database), newest first. */
export function searchMessages(db: Db, query: SearchQuery, limit: number): SearchHit[] {
  const where: string[] = [];
  const params: Record<string, string | number> = { limit };
  if (query.from !== undefined) {
    if (query.from === 'me') where.push(`m.direction = 'out'`);
    else {
      where.push(`m.contact = @from AND m.direction = 'in'`);
      params.from = query.from;
    }
  }
  if (query.in !== undefined) {
    where.push('m.contact = @in');
    params.in = query.in;
  }
  if (query.before !== undefined) {
    where.push('m.sent_at < @before');
    params.before = query.before;
  }
  if (query.after !== undefined) {
    where.push('m.sent_at >= @after');
    params.after = query.after;
  }
  // Notices and undecryptable placeholders are Parley's words, not the conversation's: never search hits.
  where.push("m.kind = 'text'");
  const filters = ` AND ${where.join(' AND ')}`;
  const columns = 'm.id, m.contact, m.direction, m.text, m.sent_at, m.status';
  if (query.terms.length === 0) {
    const sql = `SELECT ${columns}, substr(m.text, 1, 120) AS snippet FROM messages m WHERE 1${filters} ORDER BY m.seq DESC LIMIT @limit`;
    return db.prepare<[typeof params], HitRow>(sql).all(params).map(toHit);
  }
  // The contact filter also goes into the MATCH, so FTS5 intersects instead of scanning every match; SQL keeps it exact.
  const contact = query.in ?? (query.from === 'me' ? undefined : query.from);
  params.match = ftsExpression(query.terms, contact);
  // Newest first by rowid lets FTS5 stop after `limit` matches instead of sorting all of them.
  const sql = `SELECT ${columns}, snippet(messages_fts, 0, '', '', '…', 16) AS snippet
    FROM messages_fts JOIN messages m ON m.seq = messages_fts.rowid
    WHERE messages_fts MATCH @match${filters}
    ORDER BY messages_fts.rowid DESC LIMIT @limit`;
  return db.prepare<[typeof params], HitRow>(sql).all(params).map(toHit);
}

interface AnchorRow {
  sent_at: number;
  seq: number;
}

/**
 * A page of a conversation around an anchor (a message id, or the first message at or after a time):
 * up to half the page before it and the rest from it on, in chronological order.
 */
export function messagesAround(db: Db, contact: string, anchor: { id: string } | { at: number }, limit: number): Message[] {
  const found =
    'id' in anchor
      ? db.prepare<[string, string], AnchorRow>('SELECT sent_at, seq FROM messages WHERE id = ? AND contact = ?').get(anchor.id, contact)
      : db
          .prepare<[string, number], AnchorRow>('SELECT sent_at, seq FROM messages WHERE contact = ? AND sent_at >= ? ORDER BY sent_at, seq LIMIT 1')
          .get(contact, anchor.at);
  if (found === undefined) {
    if ('id' in anchor) return [];
    // Past the newest message: the latest page.
    return pageRows(db, `contact = @contact ORDER BY sent_at DESC, seq DESC`, { contact, limit }).reverse();
  }
  const half = Math.floor(limit / 2);
  const params = { contact, sent_at: found.sent_at, seq: found.seq };
  const before = pageRows(db, `contact = @contact AND (sent_at, seq) < (@sent_at, @seq) ORDER BY sent_at DESC, seq DESC`, { ...params, limit: half });
  const after = pageRows(db, `contact = @contact AND (sent_at, seq) >= (@sent_at, @seq) ORDER BY sent_at, seq`, { ...params, limit: limit - before.length });
  return [...before.reverse(), ...after];
}


function pageRows(db: Db, whereAndOrder: string, params: Record<string, string | number>): Message[] {
  return db
    .prepare<[typeof params], MessageRow>(`SELECT ${MESSAGE_COLUMNS} FROM messages WHERE ${whereAndOrder} LIMIT @limit`)
    .all(params)
    .map(messageFromRow);
}
