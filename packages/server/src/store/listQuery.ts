/**
 * One shape for both engines' list queries: a WHERE clause built condition by
 * condition with the engine's placeholders, and one page of a table newest
 * first by `seq` (Stripe cursor pagination, paging.ts). Each engine passes its
 * dialect and a function that runs a statement on its connection.
 */

import { cursorNotFound, type PagePlan, planPage } from './paging.js';
import type { PageQuery } from './types.js';

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
