// Exact counts over a created-at window from daily rollups: whole UTC days come from the rollup table,
// the partial days at either end are counted from the base table (a small index range), so the sum is exact.
import { type SQL, sql } from 'drizzle-orm';

const DAY_MS = 86_400_000;

export interface CountWindow {
  /** Whether any row can match at all (false when after >= before). */
  possible: boolean;
  /** Rollup days to sum: fromDay inclusive, toDay exclusive (YYYY-MM-DD; undefined = open); null = none. */
  rollup: { fromDay?: string; toDay?: string } | null;
  /** Timestamp ranges [from, to) to count from the base table. */
  direct: { from?: Date; to?: Date }[];
}

const dayString = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const ceilDay = (d: Date) => Math.ceil(d.getTime() / DAY_MS) * DAY_MS;
const floorDay = (d: Date) => Math.floor(d.getTime() / DAY_MS) * DAY_MS;
/** The start of 9999-12-31, the last day written as YYYY-MM-DD. */
const LAST_DAY = Date.UTC(9999, 11, 31);

/** Splits [after, before) into whole days (rollup) and partial-day edges (direct counts). */
export function countWindow(after?: Date | null, before?: Date | null): CountWindow {
  if (after && before && after.getTime() >= before.getTime()) return { possible: false, rollup: null, direct: [] };
  const lo = after ? ceilDay(after) : undefined;
  const hi = before ? floorDay(before) : undefined;
  // After a time on 9999-12-31 the next whole day is in year 10000, which toISOString writes as "+010000-…" and
  // PostgreSQL refuses (found by test/fuzz.test.ts): count that open-ended window from the base table alone.
  if (lo !== undefined && lo > LAST_DAY && hi === undefined) return { possible: true, rollup: null, direct: [{ from: after! }] };
  if (lo !== undefined && hi !== undefined && lo >= hi) {
    return { possible: true, rollup: null, direct: [{ from: after!, to: before! }] };
  }
  const direct: { from?: Date; to?: Date }[] = [];
  if (after && lo! > after.getTime()) direct.push({ from: after, to: new Date(lo!) });
  if (before && hi! < before.getTime()) direct.push({ from: new Date(hi!), to: before });
  return {
    possible: true,
    rollup: {
      fromDay: lo !== undefined ? dayString(lo) : undefined,
      toDay: hi !== undefined ? dayString(hi) : undefined,
    },
    direct,
  };
}

/** A placeholder, typed for PostgreSQL (values travel as text: ISO timestamps and YYYY-MM-DD days). */
type Slot = SQL;

export interface WindowedCountParts {
  /** Grouping columns, e.g. sql`status, priority`. */
  groupBy: SQL;
  /** Rollup rows (groupBy columns and n) for whole days; the day condition is appended by the caller's `days`. */
  rollup: (days: SQL) => SQL;
  /** Base-table rows grouped by the same columns (with n = count(*)) for a timestamp range [from, to). */
  direct: (range: { from?: Slot; to?: Slot }) => SQL;
}

/** The window's statement shape and its values for windowedCountQuery's placeholders (fromDay, toDay, from0, to0, …). */
export function windowValues(window: CountWindow): { shape: string; values: Record<string, unknown> } {
  const values: Record<string, unknown> = {};
  let shape = 'r';
  if (window.rollup) {
    shape += `${window.rollup.fromDay ? 'f' : ''}${window.rollup.toDay ? 't' : ''}`;
    if (window.rollup.fromDay) values.fromDay = window.rollup.fromDay;
    if (window.rollup.toDay) values.toDay = window.rollup.toDay;
  } else shape += '-';
  window.direct.forEach((range, i) => {
    shape += `d${range.from ? 'f' : ''}${range.to ? 't' : ''}`;
    if (range.from) values[`from${i}`] = range.from.toISOString();
    if (range.to) values[`to${i}`] = range.to.toISOString();
  });
  return { shape, values };
}

/** One statement summing the rollup's whole days and the base table's partial-day edges of a window (placeholders). */
export function windowedCountQuery(window: CountWindow, parts: WindowedCountParts): SQL {
  const pieces: SQL[] = [];
  if (window.rollup) {
    const { fromDay, toDay } = window.rollup;
    pieces.push(
      parts.rollup(
        sql`${fromDay ? sql`AND day >= ${sql.placeholder('fromDay')}::date` : sql``} ${toDay ? sql`AND day < ${sql.placeholder('toDay')}::date` : sql``}`,
      ),
    );
  }
  window.direct.forEach((range, i) =>
    pieces.push(
      parts.direct({
        from: range.from ? sql`${sql.placeholder(`from${i}`)}::timestamptz` : undefined,
        to: range.to ? sql`${sql.placeholder(`to${i}`)}::timestamptz` : undefined,
      }),
    ),
  );
  return sql`SELECT ${parts.groupBy}, sum(n)::int AS n FROM (${sql.join(pieces, sql` UNION ALL `)}) AS c GROUP BY ${parts.groupBy}`;
}
