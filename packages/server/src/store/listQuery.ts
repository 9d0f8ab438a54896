/**
 * One shape for both engines' list queries: a WHERE clause built condition by
 * condition with the engine's placeholders, and one page of a table newest
 * first by `seq` (Stripe cursor pagination, paging.ts). Each engine passes its
 * dialect and a function that runs a statement on its connection.
 */

import { cursorNotFound, type PagePlan, planPage } from './paging.js';
import {
  ACCOUNT_COLUMNS,
  ATTEMPT_COLUMNS,
  createdMsBounds,
  ENDPOINT_COLUMNS,
  OBJECT_COLUMNS,
} from './rows.js';
import type { AccountFilter, AttemptQuery, ObjectQuery, PageQuery } from './types.js';

/** Runs one statement on the engine's connection and returns its rows. */
export type RunSql = <R>(sql: { text: string; values: unknown[] }) => Promise<R[]>;

export class Where {
  readonly conditions: string[] = [];
  readonly values: unknown[] = [];

  /** `placeholder(n)`: the engine's n-th parameter (`?` for SQLite, `$n` for PostgreSQL). */
  constructor(private readonly placeholder: (n: number) => string) {}

  /** The placeholder for a new parameter, added in the order placeholders appear in the text. */
  param(value: unknown): string {
    this.values.push(value);
    return this.placeholder(this.values.length);
  }

  add(condition: string): this {
    this.conditions.push(condition);
    return this;
  }

  toString(): string {
    return this.conditions.length === 0 ? '' : `WHERE ${this.conditions.join(' AND ')}`;
  }
}

export interface ListQuery {
  /** `SELECT … FROM table`: the columns to read. */
  select: string;
  table: string;
  /** The conditions that define the list; the cursor must name a row within them. */
  scope: (w: Where) => void;
  /** Filters on top of the scope (the cursor may be a row they leave out). */
  filter?: (w: Where) => void;
  page: PageQuery;
}

/** One page of a list, newest first by `seq`, as `finishPage` expects it. */
export async function listPage<R>(
  q: ListQuery,
  placeholder: (n: number) => string,
  run: RunSql,
): Promise<{ rows: R[]; plan: PagePlan }> {
  const plan = planPage(q.page);
  const where = new Where(placeholder);
  q.scope(where);
  q.filter?.(where);
  if (plan.cursorId !== null) {
    const cursorWhere = new Where(placeholder);
    q.scope(cursorWhere);
    cursorWhere.add(`id = ${cursorWhere.param(plan.cursorId)}`);
    const [cursor] = await run<{ seq: number | string }>({
      text: `SELECT seq FROM ${q.table} ${cursorWhere}`,
      values: cursorWhere.values,
    });
    if (cursor === undefined) throw cursorNotFound(plan.cursorId);
    where.add(`seq ${plan.comparison} ${where.param(Number(cursor.seq))}`);
  }
  const rows = await run<R>({
    text: `${q.select} ${where} ORDER BY seq ${plan.order} LIMIT ${where.param(plan.fetch)}`,
    values: where.values,
  });
  return { rows, plan };
}

/** `bool(value)`: the engine's boolean parameter (0/1 for SQLite). */
type Bool = (value: boolean) => unknown;

/** The platform's connected accounts, as `listAccounts` pages them. */
export function accountsQuery(
  platformId: string,
  page: PageQuery,
  filter: AccountFilter,
  bool: Bool,
): ListQuery {
  return {
    select: `SELECT ${ACCOUNT_COLUMNS} FROM accounts`,
    table: 'accounts',
    scope: (w) => w.add(`platform_id = ${w.param(platformId)}`),
    filter: (w) => {
      if (filter.seenByKeyOfMode === 'live') w.add(`connected_live = ${w.param(bool(true))}`);
      if (filter.seenByKeyOfMode === 'test')
        w.add(`(connected_test = ${w.param(bool(true))} OR connected_live = ${w.param(bool(true))})`);
      if (filter.created) {
        const { from, before } = createdMsBounds(filter.created);
        if (from !== null) w.add(`created_at >= ${w.param(from)}`);
        if (before !== null) w.add(`created_at < ${w.param(before)}`);
      }
    },
    page,
  };
}

/** An account's webhook endpoints in one mode; listen-session endpoints are never listed, nor a cursor. */
export function endpointsQuery(
  ownerAccountId: string,
  livemode: boolean,
  page: PageQuery,
  bool: Bool,
): ListQuery {
  return {
    select: `SELECT ${ENDPOINT_COLUMNS} FROM webhook_endpoints`,
    table: 'webhook_endpoints',
    scope: (w) =>
      w
        .add(`owner_account_id = ${w.param(ownerAccountId)}`)
        .add(`livemode = ${w.param(bool(livemode))}`)
        .add('listen_key IS NULL'),
    page,
  };
}

/** Delivery attempts of an event, an endpoint, or both. */
export function attemptsQuery(q: AttemptQuery): ListQuery {
  return {
    select: `SELECT ${ATTEMPT_COLUMNS} FROM delivery_attempts`,
    table: 'delivery_attempts',
    scope: (w) => {
      if (q.eventId !== undefined) w.add(`event_id = ${w.param(q.eventId)}`);
      if (q.endpointId !== undefined) w.add(`endpoint_id = ${w.param(q.endpointId)}`);
    },
    page: q,
  };
}

/** An account's emulated objects of one kind in one mode, deleted ones left out (a cursor may not name one). */
export function objectsQuery(q: ObjectQuery, bool: Bool): ListQuery {
  return {
    select: `SELECT ${OBJECT_COLUMNS} FROM objects`,
    table: 'objects',
    scope: (w) =>
      w
        .add(`account_id = ${w.param(q.accountId)}`)
        .add(`livemode = ${w.param(bool(q.livemode))}`)
        .add(`kind = ${w.param(q.kind)}`)
        .add(`deleted = ${w.param(bool(false))}`),
    filter: (w) => {
      if (q.lookupKey !== undefined) w.add(`lookup_key = ${w.param(q.lookupKey)}`);
      const c = q.created;
      if (c?.gt !== undefined) w.add(`created_unix > ${w.param(c.gt)}`);
      if (c?.gte !== undefined) w.add(`created_unix >= ${w.param(c.gte)}`);
      if (c?.lt !== undefined) w.add(`created_unix < ${w.param(c.lt)}`);
      if (c?.lte !== undefined) w.add(`created_unix <= ${w.param(c.lte)}`);
    },
    page: q,
  };
}
