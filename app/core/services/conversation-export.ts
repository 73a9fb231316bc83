import type { Message } from '../../shared/domain.js';
import type { Db } from '../store/db.js';

export interface ConversationFile {
  fileName: string;
  mimeType: string;
  content: string;
}

const escapeHtml = (text: string): string =>
  text.replace(/[&<>"']/g, (char) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[char] ?? char);

function allMessages(db: Db, contact: string): Message[] {
  return db
    .prepare<[string], { id: string; contact: string; direction: Message['direction']; text: string; sent_at: number; status: Message['status'] }>(
      'SELECT id, contact, direction, text, sent_at, status FROM messages WHERE contact = ? ORDER BY sent_at, seq',
    )
    .all(contact)
    .map((row) => ({ id: row.id, contact: row.contact, direction: row.direction, text: row.text, sentAt: row.sent_at, status: row.status }));
}

/** A readable copy of one conversation, as JSON or as a self-contained HTML page (no scripts, text escaped). */
export function exportConversation(db: Db, self: string, contact: string, format: 'html' | 'json'): ConversationFile {
  const messages = allMessages(db, contact);
  const base = `parley-${contact}`;
  if (format === 'json') {
    const content = JSON.stringify(
      {
        format: 'parley-conversation',
        version: 1,
        self,
        contact,
        messages: messages.map((m) => ({ id: m.id, from: m.direction === 'out' ? self : contact, sentAt: new Date(m.sentAt).toISOString(), text: m.text })),
      },
      null,
      2,
    );
    return { fileName: `${base}.json`, mimeType: 'application/json', content };
  }
  const rows = messages
    .map((m) => {
      const from = m.direction === 'out' ? self : contact;
      return `<tr><td>${escapeHtml(new Date(m.sentAt).toISOString())}</td><th>${escapeHtml(from)}</th><td>${escapeHtml(m.text).replace(/\n/g, '<br>')}</td></tr>`;
    })
    .join('\n');
  const content = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>Parley: ${escapeHtml(self)} and ${escapeHtml(contact)}</title>
<style>body{font:14px system-ui,sans-serif;margin:2em}td,th{padding:.3em .6em;vertical-align:top;text-align:left}td:first-child{color:#666;white-space:nowrap}</style></head>
<body><h1>${escapeHtml(self)} and ${escapeHtml(contact)}</h1>
<table>
${rows}
</table></body></html>
`;
  return { fileName: `${base}.html`, mimeType: 'text/html', content };
}
