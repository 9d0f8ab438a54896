/**
 * The Events API list, as SQL both engines run: newest first by
 * (created_unix, seq), Stripe's order (events "sorted by creation date"; seq
 * breaks ties within a second), so that one index serves the plain list and
 * any `created` range, and every filter reads about one page of rows however
 * many events are stored:
 *
 * - `type`/`types`: one branch per exact type, each reading its page from
 *   (account_id, livemode, type, created_unix, seq), merged; a prefix
 *   (`customer.*`) is first expanded to the types stored under it by a skip
 *   scan of the same index (one seek per distinct type).
 * - `delivery_success=false`: when few deliveries are owed (the usual case),
 *   from those (a partial index of the pending and failed ones) to their
 *   events; when many are, the events newest first, each checked.
 * - `delivery_success=true`: the events newest first, each checked against
 *   that partial index.
 *
 * Engines differ only in placeholders, booleans and collation (the dialect).
 */

import { type RunSql, Where } from './listQuery.js';
import { cursorNotFound, finishPage, planPage } from './paging.js';
import type { CreatedRange, EventQuery, Page, TypeFilter } from './types.js';

export interface SqlDialect {
  /** The placeholder of the n-th parameter (1-based). */
  placeholder(n: number): string;
  bool(value: boolean): unknown;
  /** `d` is not a listen-session delivery. */
  notListen: string;
  /** The type column as its index has it (PostgreSQL compares it bytewise, under "C"). */
  typeColumn: string;
  /** The deliveries owed (`owed o`) joined to their events (`e`), read in that order. */
  owedJoin: string;
  /** The events column a page's rows are fetched by: the table's own key (SQLite's rowid `seq`, PostgreSQL's `id`). */
  rowKey: 'seq' | 'id';
}

/** Past this many deliveries owed, `delivery_success=false` walks the events instead. */
export const FEW_UNDELIVERED = 5000;

/** A prefix that expands to more types than this is filtered row by row instead of branched. */
export const MAX_TYPE_BRANCHES = 50;

/** A delivery still owed: what `delivery_success` and `pending_webhooks` count (the partial index's condition). */
export const owed = (d: SqlDialect) => `d.status IN ('pending', 'failed') AND ${d.notListen}`;

export interface EventListPlan {
  query: Pick<EventQuery, 'accountId' | 'livemode' | 'created' | 'deliverySuccess'>;
  /** Exact types to branch over; null: any type. */
  types: readonly string[] | null;
  /** Types to filter row by row instead (a prefix past MAX_TYPE_BRANCHES); null: none. */
  rowTypes: TypeFilter | null;
  cursor: { createdUnix: number; seq: number; comparison: '<' | '>' } | null;
  order: 'DESC' | 'ASC';
  fetch: number;
  /** `delivery_success=false` from the deliveries owed (few of them) rather than from the events. */
  fromOwed: boolean;
}

export interface Sql {
  text: string;
  values: unknown[];
}

function createdConditions(created: CreatedRange | undefined, p: Where): string[] {
  const out: string[] = [];
  if (created?.gt !== undefined) out.push(`e.created_unix > ${p.param(created.gt)}`);
  if (created?.gte !== undefined) out.push(`e.created_unix >= ${p.param(created.gte)}`);
  if (created?.lt !== undefined) out.push(`e.created_unix < ${p.param(created.lt)}`);
  if (created?.lte !== undefined) out.push(`e.created_unix <= ${p.param(created.lte)}`);
  return out;
}

/** The upper bound of a prefix range: every type character ([a-z0-9_.]) sorts below `~`. */
const prefixEnd = (prefix: string) => `${prefix}~`;

/**
 * The list's SQL. `columns` are the event columns the engine reads (aliased
 * `e`, `pending_webhooks` included); the page comes back in `plan.order`.
 */
export function eventListSql(plan: EventListPlan, columns: string, d: SqlDialect): Sql {
  const p = new Where(d.placeholder);
  const q = plan.query;
  const dir = plan.order;
  const owedOf = `EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = e.id AND ${owed(d)})`;
  // Parameters are added in the order their placeholders appear: SQLite's are positional.
  const branch = (type: string | null): string => {
    const where = [`e.account_id = ${p.param(q.accountId)}`, `e.livemode = ${p.param(d.bool(q.livemode))}`];
    if (type !== null) where.push(`${d.typeColumn} = ${p.param(type)}`);
    where.push(...createdConditions(q.created, p));
    if (plan.rowTypes)
      where.push(
        `(${[
          ...plan.rowTypes.exact.map((type) => `${d.typeColumn} = ${p.param(type)}`),
          ...plan.rowTypes.prefixes.map(
            (prefix) =>
              `(${d.typeColumn} >= ${p.param(prefix)} AND ${d.typeColumn} < ${p.param(prefixEnd(prefix))})`,
          ),
        ].join(' OR ')})`,
      );
    if (plan.cursor)
      where.push(
        `(e.created_unix, e.seq) ${plan.cursor.comparison} (${p.param(plan.cursor.createdUnix)}, ${p.param(plan.cursor.seq)})`,
      );
    if (q.deliverySuccess === true) where.push(`NOT ${owedOf}`);
    if (q.deliverySuccess === false && !plan.fromOwed) where.push(owedOf);
    const from = plan.fromOwed ? d.owedJoin : 'events e';
    return `SELECT e.${d.rowKey} FROM ${from} WHERE ${where.join(' AND ')}
      ORDER BY e.created_unix ${dir}, e.seq ${dir} LIMIT ${p.param(plan.fetch)}`;
  };
  const branches = plan.types === null ? [branch(null)] : plan.types.map((type) => branch(type));
  const union = branches.map((b, i) => `SELECT ${d.rowKey} FROM (${b}) AS b${i}`).join(' UNION ALL ');
  const owedCte = plan.fromOwed
    ? `WITH owed AS MATERIALIZED (SELECT DISTINCT d.event_id FROM deliveries d WHERE ${owed(d)}) `
    : '';
  return {
    text: `${owedCte}SELECT ${columns} FROM events e WHERE e.${d.rowKey} IN (${union})
      ORDER BY e.created_unix ${dir}, e.seq ${dir} LIMIT ${p.param(plan.fetch)}`,
    values: p.values,
  };
}

/**
 * The types stored under one prefix for one account and mode, by a skip scan
 * of the type index (one seek per distinct type): at most `limit`.
 */
export function typesUnderPrefixSql(
  accountId: string,
  livemode: boolean,
  prefix: string,
  limit: number,
  d: SqlDialect,
): Sql {
  const p = new Where(d.placeholder);
  const t = d.typeColumn.replace(/^e\./, '');
  // Each placeholder gets its own parameter, in text order (SQLite's are positional).
  const scope = () => `account_id = ${p.param(accountId)} AND livemode = ${p.param(d.bool(livemode))}`;
  const first = `SELECT (SELECT MIN(${t}) FROM events WHERE ${scope()} AND ${t} >= ${p.param(prefix)} AND ${t} < ${p.param(prefixEnd(prefix))})`;
  const next = `SELECT (SELECT MIN(${t}) FROM events WHERE ${scope()} AND ${t} > found.type AND ${t} < ${p.param(prefixEnd(prefix))})`;
  return {
    text: `WITH RECURSIVE found(type) AS (
        ${first}
        UNION ALL
        ${next}
        FROM found WHERE found.type IS NOT NULL
      )
      SELECT type FROM found WHERE type IS NOT NULL LIMIT ${p.param(limit)}`,
    values: p.values,
  };
}

/** How many deliveries are owed, counted up to `bound` (a bounded read of the partial index). */
export function owedCountSql(bound: number, d: SqlDialect): Sql {
  const p = new Where(d.placeholder);
  return {
    text: `SELECT COUNT(*) AS n FROM (SELECT 1 FROM deliveries d WHERE ${owed(d)} LIMIT ${p.param(bound)}) AS o`,
    values: p.values,
  };
}

/**
 * `Store.listEvents` for both engines: resolve the cursor, expand type
 * prefixes, choose how to find undelivered events, then read the page.
 * `toEvent` maps the engine's rows.
 */
export async function listEvents<Row, T>(
  q: EventQuery,
  d: SqlDialect,
  columns: string,
  run: RunSql,
  toEvent: (row: Row) => T,
): Promise<Page<T>> {
  const page = planPage(q);
  const p = new Where(d.placeholder);
  let cursor: EventListPlan['cursor'] = null;
  if (page.cursorId !== null) {
    const found = await run<{ created_unix: number | string; seq: number | string }>({
      text: `SELECT created_unix, seq FROM events WHERE id = ${p.param(page.cursorId)} AND account_id = ${p.param(q.accountId)} AND livemode = ${p.param(d.bool(q.livemode))}`,
      values: p.values,
    });
    if (found[0] === undefined) throw cursorNotFound(page.cursorId);
    cursor = {
      createdUnix: Number(found[0].created_unix),
      seq: Number(found[0].seq),
      comparison: page.comparison,
    };
  }
  // `*` matches every type: no filter at all.
  let types: string[] | null = null;
  let rowTypes: TypeFilter | null = null;
  if (q.types !== undefined && !q.types.prefixes.includes('')) {
    const all = new Set(q.types.exact);
    for (const prefix of q.types.prefixes) {
      const under = await run<{ type: string }>(
        typesUnderPrefixSql(q.accountId, q.livemode, prefix, MAX_TYPE_BRANCHES + 1, d),
      );
      for (const r of under) all.add(r.type);
      if (under.length > MAX_TYPE_BRANCHES || all.size > MAX_TYPE_BRANCHES) {
        rowTypes = q.types;
        break;
      }
    }
    if (rowTypes === null) {
      types = [...all];
      if (types.length === 0) return { data: [], hasMore: false };
    }
  }
  let fromOwed = false;
  if (q.deliverySuccess === false) {
    const [count] = await run<{ n: number | string }>(owedCountSql(FEW_UNDELIVERED, d));
    fromOwed = Number(count?.n ?? 0) < FEW_UNDELIVERED;
  }
  const rows = await run<Row>(
    eventListSql(
      { query: q, types, rowTypes, cursor, order: page.order, fetch: page.fetch, fromOwed },
      columns,
      d,
    ),
  );
  return finishPage(rows.map(toEvent), page);
}
