/**
 * Stripe cursor pagination over a monotonic `seq`, newest first, shared by both
 * engines: the engine resolves the cursor id to its seq and runs the query the
 * plan describes; `finishPage` turns the limit + 1 rows into a page.
 */

import { StoreError } from './errors.js';
import type { Page, PageQuery } from './types.js';

export interface PagePlan {
  /** The id to resolve to a seq, or null for the first page. */
  cursorId: string | null;
  /** `<` for startingAfter (older rows), `>` for endingBefore (newer rows). */
  comparison: '<' | '>';
  /** Newer pages are read oldest first so that LIMIT keeps the rows next to the cursor. */
  order: 'DESC' | 'ASC';
  /** One more than asked: its presence is `hasMore`. */
  fetch: number;
}

/** Validate a page query and describe how to read it. */
export function planPage(page: PageQuery): PagePlan {
  const limit = Math.max(0, Math.floor(page.limit));
  if (page.startingAfter !== undefined && page.endingBefore !== undefined) {
    throw new StoreError('invalid_page', 'startingAfter and endingBefore cannot be used together');
  }
  if (page.endingBefore !== undefined) {
    return { cursorId: page.endingBefore, comparison: '>', order: 'ASC', fetch: limit + 1 };
  }
  return { cursorId: page.startingAfter ?? null, comparison: '<', order: 'DESC', fetch: limit + 1 };
}

/** The error for a cursor that names no object of the list. */
export function cursorNotFound(id: string): StoreError {
  return new StoreError('cursor_not_found', `No such object for the cursor: '${id}'`);
}

/** Cut the extra row and put the page newest first. */
export function finishPage<T>(rows: T[], plan: PagePlan): Page<T> {
  const limit = plan.fetch - 1;
  const data = rows.slice(0, limit);
  if (plan.order === 'ASC') data.reverse();
  return { data, hasMore: rows.length > limit };
}
