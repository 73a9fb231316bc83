import { ParleyError } from '../../shared/errors.js';

/** A search as the user typed it, split into full-text terms and filters. */
export interface SearchQuery {
  /** words to match, each as a prefix */
  terms: string[];
  /** from:NAME — messages NAME sent (from:me — messages this profile sent) */
  from?: string;
  /** in:NAME — the conversation with NAME */
  in?: string;
  /** before:YYYY-MM-DD — sent before the start of that day (UTC) */
  before?: number;
  /** after:YYYY-MM-DD — sent after the end of that day (UTC) */
  after?: number;
}

const DAY_MS = 86_400_000;
const bad = (message: string): ParleyError => new ParleyError('SEARCH_BAD_QUERY', message);

function parseDay(value: string, filter: string): number {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  const time = match === null ? Number.NaN : Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3]));
  if (!Number.isFinite(time) || new Date(time).toISOString().slice(0, 10) !== value) throw bad(`${filter}: takes a date like 2024-05-31`);
  return time;
}

/** Parse `hello wor from:alice after:2024-01-01`; SEARCH_BAD_QUERY for an unknown or malformed filter. */
export function parseSearchQuery(text: string): SearchQuery {
  const query: SearchQuery = { terms: [] };
  for (const word of text.trim().split(/\s+/).filter((w) => w !== '')) {
    const filter = /^(from|in|before|after):(.*)$/i.exec(word);
    if (filter === null) {
      // Quotes and FTS5 operators are not syntax here: each word is matched as typed.
      const cleaned = word.replace(/"/g, '');
      if (cleaned !== '') query.terms.push(cleaned);
      continue;
    }
    const name = (filter[1] ?? '').toLowerCase();
    const value = filter[2] ?? '';
    if (value === '') throw bad(`${name}: needs a value`);
    if (name === 'from') query.from = value.toLowerCase();
    else if (name === 'in') query.in = value.toLowerCase();
    else if (name === 'before') query.before = parseDay(value, 'before');
    else query.after = parseDay(value, 'after') + DAY_MS;
  }
  if (query.terms.length === 0 && query.from === undefined && query.in === undefined && query.before === undefined && query.after === undefined) {
    throw bad('Type something to search for');
  }
  return query;
}

/** The FTS5 MATCH expression: every term as a quoted prefix of the text, all required; a contact as a phrase of its column. */
export function ftsExpression(terms: readonly string[], contact?: string): string {
  const parts = terms.map((term) => `text : "${term}"*`);
  if (contact !== undefined) parts.push(`contact : "${contact.replace(/"/g, '')}"`);
  return parts.join(' AND ');
}
