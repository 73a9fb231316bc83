import { ParleyError } from '../../shared/errors.js';
import type { Db } from './db.js';

const OLD_CHECK = "CHECK (status IN ('pending', 'sent', 'received', 'failed'))";
const NEW_CHECK = "CHECK (status IN ('pending', 'sent', 'received', 'failed', 'delivered'))";

interface SchemaRow {
  type: string;
  name: string;
  sql: string | null;
}

/**
 * Let messages.status be 'delivered'. SQLite cannot alter a CHECK constraint, so the table is rebuilt
 * (SQLite's documented twelve-step way): the new table is made from the current CREATE statement with only
 * the constraint changed, so columns, indexes and triggers added by any migration so far are all carried
 * over; row ids (seq) are kept, so the external-content search index stays valid.
 */
export function allowDeliveredStatus(db: Db): void {
  const table = db.prepare<[], SchemaRow>(`SELECT type, name, sql FROM sqlite_master WHERE type = 'table' AND name = 'messages'`).get();
  if (table?.sql == null || !table.sql.includes(OLD_CHECK)) {
    throw new ParleyError('VAULT_CORRUPT', 'The messages table is not the one this migration expects');
  }
  const dependents = db
    .prepare<[], SchemaRow>(`SELECT type, name, sql FROM sqlite_master WHERE tbl_name = 'messages' AND type IN ('index', 'trigger') AND sql IS NOT NULL`)
    .all();
  const rebuilt = table.sql.replace(OLD_CHECK, NEW_CHECK).replace(/^CREATE TABLE\s+("?messages"?)/i, 'CREATE TABLE messages_rebuilt');
  db.exec(rebuilt);
  db.exec('INSERT INTO messages_rebuilt SELECT * FROM messages');
  db.exec('DROP TABLE messages');
  db.exec('ALTER TABLE messages_rebuilt RENAME TO messages');
  for (const dependent of dependents) db.exec(dependent.sql ?? '');
}
