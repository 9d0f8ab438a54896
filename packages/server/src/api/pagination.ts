/** Stripe's list conventions: `limit` 1–100 (default 10), `starting_after` xor `ending_before`. */

import type { Page, PageQuery } from '../store/types.js';
import { invalid } from './errors.js';
import type { Params } from './params.js';

export const PAGE_PARAMS = ['limit', 'starting_after', 'ending_before'] as const;

export function pageQuery(p: Params): PageQuery {
  const limit = p.int('limit', { min: 1, max: 100 }) ?? 10;
  const startingAfter = p.string('starting_after') || undefined;
  const endingBefore = p.string('ending_before') || undefined;
  if (startingAfter && endingBefore) {
    throw invalid(
      'You may only specify one of these parameters: ending_before, starting_after.',
      'parameter_invalid',
      'ending_before',
    );
  }
  return { limit, ...(startingAfter ? { startingAfter } : {}), ...(endingBefore ? { endingBefore } : {}) };
}

export interface ListObject<T> {
  object: 'list';
  url: string;
  has_more: boolean;
  data: T[];
}

export function listObject<R, T>(url: string, page: Page<R>, map: (r: R) => T): ListObject<T> {
  return { object: 'list', url, has_more: page.hasMore, data: page.data.map(map) };
}
