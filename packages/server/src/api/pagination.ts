/** Stripe's list conventions: `limit` 1–100 (default 10), `starting_after` xor `ending_before`. */

import type { CreatedRange, Page, PageQuery } from '../store/types.js';
import { invalid, invalidParam } from './errors.js';
import { Params } from './params.js';

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

/** A list object as JSON text, around items that are JSON text already (events, served as stored). */
export const listJson = (url: string, hasMore: boolean, items: readonly string[]): string =>
  `{"object":"list","url":${JSON.stringify(url)},"has_more":${hasMore},"data":[${items.join(',')}]}`;

/** Stripe's `created` list filter: a timestamp, or a hash of gt, gte, lt, lte (unix seconds). */
export function createdRange(p: Params): CreatedRange | undefined {
  const raw = p.raw['created'];
  if (raw === undefined || raw === '') return undefined;
  if (typeof raw === 'string' || typeof raw === 'number') {
    const n = p.int('created', { min: 0 })!;
    return { gte: n, lte: n };
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw invalidParam('created', 'created must be a timestamp or a hash of gt, gte, lt, lte.');
  const range: CreatedRange = {};
  const sub = new Params(raw as Record<string, unknown>, ['gt', 'gte', 'lt', 'lte'], 'created');
  for (const op of ['gt', 'gte', 'lt', 'lte'] as const) {
    const v = sub.int(op, { min: 0 });
    if (v !== undefined) range[op] = v;
  }
  return range;
}
