import type { Message, SearchHit } from '../../shared/domain.js';
import { ParleyError } from '../../shared/errors.js';
import type { Db } from '../store/db.js';
import { parseSearchQuery } from '../store/search-query.js';
import { messagesAround, searchMessages } from '../store/search.js';
import { DEFAULT_PAGE_SIZE } from './messages.js';

const DEFAULT_SEARCH_LIMIT = 50;

/** Search and jumps inside the history of an unlocked profile. */
export class HistoryService {
  constructor(private readonly db: Db) {}

  search(text: string, limit = DEFAULT_SEARCH_LIMIT): SearchHit[] {
    const query = parseSearchQuery(text);
    try {
      return searchMessages(this.db, query, limit);
    } catch (error) {
      // FTS5 rejects some token shapes (a lone operator character): the user's query, not the store, is at fault.
      if (error instanceof Error && /fts5|syntax/i.test(error.message)) throw new ParleyError('SEARCH_BAD_QUERY', 'That search cannot be understood; try plain words');
      throw error;
    }
  }

  /** The page of a conversation that contains a message (search result) or a date (jump to date). */
  around(contact: string, anchor: { id: string } | { at: number }, limit = DEFAULT_PAGE_SIZE): Message[] {
    return messagesAround(this.db, contact, anchor, limit);
  }
}
