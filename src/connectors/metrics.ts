// Analytics metrics: daily points per metric, pages newest first, and aggregates (average, min, max, latest, trend halves).
import { and, eq, sql } from 'drizzle-orm';
import type { Database } from '../db/client';
import { metricPoints } from '../db/schema';
import { UserInputError } from '../errors';
import { type OrderKey, encodeCursor, fetchPage, sourceFreshness, toPage } from './paging';
import { WhereParts, pageStatements, shapeCache } from './statements';
import type { Connector, ListQuery, Page } from './types';

export interface MetricPoint {
  metric: string;
  /** YYYY-MM-DD */
  date: string;
  value: number;
}

export interface MetricFilter {
  metric?: string | null;
  from?: string | null;
  to?: string | null;
  /** The N days ending today (UTC), today included. */
  lastDays?: number | null;
}

export interface DateRange {
  from?: string;
  to?: string;
}

export interface MetricStats {
  dataPoints: number;
  metricCount: number;
  firstDate: string | null;
  latestDate: string | null;
  average: number | null;
  min: number | null;
  max: number | null;
  latestValue: number | null;
  /** Averages of the older and the newer half of the points (by date), for the trend. */
  olderHalfAverage: number | null;
  newerHalfAverage: number | null;
}

export interface MetricSummary extends MetricStats {
  range: DateRange;
}

export type MetricOrder = 'NEWEST_FIRST';

const DAY_MS = 86_400_000;

/** Resolves from/to/lastDays into one inclusive date range; lastDays counts back from `today`. */
export function resolveDateRange(filter: MetricFilter, today: Date = new Date()): DateRange {
  if (filter.lastDays != null && (filter.from != null || filter.to != null)) {
    throw new UserInputError('lastDays: cannot be combined with from or to; give either lastDays or a from/to range', 'lastDays');
  }
  if (filter.lastDays != null) {
    const end = Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate());
    return {
      from: new Date(end - (filter.lastDays - 1) * DAY_MS).toISOString().slice(0, 10),
      to: new Date(end).toISOString().slice(0, 10),
    };
  }
  if (filter.from != null && filter.to != null && filter.from > filter.to) {
    throw new UserInputError(`from: ${filter.from} is after to ${filter.to}; from must be on or before to`, 'from');
  }
  return { from: filter.from ?? undefined, to: filter.to ?? undefined };
}

const date = sql`${metricPoints.date}`;
const metricName = sql`${metricPoints.metric}`;
const newestFirst: OrderKey<MetricPoint> = {
  columns: [
    { expr: date, dir: 'desc', cast: 'date' },
    { expr: metricName, dir: 'asc' },
  ],
  key: (p) => [p.date, p.metric],
  shape: ['date', 'string'],
};

/** The filter as statement parts: shape, values and conditions (with placeholders). */
function metricWhere(tenantId: string, metric: string | null | undefined, range: DateRange): WhereParts {
  return new WhereParts()
    .add('tenantId', tenantId, (v) => sql`${metricPoints.tenantId} = ${v}`)
    .add('metric', metric || undefined, (v) => sql`${metricPoints.metric} = ${v}`)
    .add('from', range.from || undefined, (v) => sql`${metricPoints.date} >= ${v}::date`)
    .add('to', range.to || undefined, (v) => sql`${metricPoints.date} <= ${v}::date`);
}

const num = (v: unknown) => (v == null ? null : Number(v));

export type MetricsConnector = Connector<MetricPoint, MetricFilter, MetricOrder, MetricSummary> & {
  names(tenantId: string): Promise<string[]>;
  /** The first page (newest first) and the summary of the same points in one statement. */
  firstPageWithSummary(tenantId: string, filter: MetricFilter, first: number): Promise<{ page: Page<MetricPoint>; summary: MetricSummary }>;
};

/** The aggregates of the points in `p` (a CTE of metric, date, value and `half`, the ntile(2) by date): one row. */
const SUMMARY_COLUMNS = sql.raw(`count(*)::int AS data_points, count(DISTINCT metric)::int AS metric_count,
             min(date)::text AS first_date, max(date)::text AS latest_date,
             avg(value)::float8 AS average, min(value)::float8 AS min, max(value)::float8 AS max,
             (array_agg(value ORDER BY date DESC, metric))[1]::float8 AS latest_value,
             avg(value) FILTER (WHERE half = 1)::float8 AS older_half,
             avg(value) FILTER (WHERE half = 2)::float8 AS newer_half`);

/** The CTE `p` the summary reads: the matching points, each with its half (by date) for the trend. */
function pointsWithHalves(where: WhereParts) {
  return sql`p AS (SELECT metric, date, value, ntile(2) OVER (ORDER BY date, metric) AS half FROM metric_points WHERE ${and(...where.conditions())})`;
}

/**
 * Most points a first page with its summary reads whole, to sum them up here rather than in PostgreSQL: a year of one
 * metric. The aggregates (a window for the halves, the sorts) cost PostgreSQL as much as reading the points, while
 * summing a few hundred numbers here costs microseconds.
 */
const POINTS_SUMMED_HERE = 366;

/**
 * How many points the filter can match at most, when that is known without asking: one metric over a closed period
 * has at most one point a day (the primary key is tenant, metric, date). Null: any number.
 */
function mostPoints(metric: string | null | undefined, range: DateRange): number | null {
  if (!metric || !range.from || !range.to) return null;
  return Math.max(0, (Date.parse(range.to) - Date.parse(range.from)) / DAY_MS + 1);
}

/**
 * The summary of one metric's points, given newest first, as the SQL summary computes it: sums taken oldest first,
 * as PostgreSQL's avg adds them (so the figures are the same to the last bit), and the halves as ntile(2) cuts them
 * (the older half takes the odd point).
 */
function summaryOfPoints(newestFirst: MetricPoint[], range: DateRange): MetricSummary {
  const n = newestFirst.length;
  const values = newestFirst.map((p) => p.value).reverse();
  const olderCount = Math.ceil(n / 2);
  const mean = (from: number, to: number) => {
    if (to <= from) return null;
    let sum = 0;
    for (let i = from; i < to; i++) sum += values[i];
    return sum / (to - from);
  };
  return {
    range,
    dataPoints: n,
    metricCount: n ? 1 : 0,
    firstDate: newestFirst.at(-1)?.date ?? null,
    latestDate: newestFirst[0]?.date ?? null,
    average: mean(0, n),
    min: n ? Math.min(...values) : null,
    max: n ? Math.max(...values) : null,
    latestValue: newestFirst[0]?.value ?? null,
    olderHalfAverage: mean(0, olderCount),
    newerHalfAverage: mean(olderCount, n),
  };
}

function summaryOf(row: Record<string, unknown>, range: DateRange): MetricSummary {
  return {
    range,
    dataPoints: Number(row.data_points),
    metricCount: Number(row.metric_count),
    firstDate: (row.first_date as string | null) ?? null,
    latestDate: (row.latest_date as string | null) ?? null,
    average: num(row.average),
    min: num(row.min),
    max: num(row.max),
    latestValue: num(row.latest_value),
    olderHalfAverage: num(row.older_half),
    newerHalfAverage: num(row.newer_half),
  };
}

export function createMetricsConnector({ database, now = () => new Date() }: { database: Database; now?: () => Date }): MetricsConnector {
  const { db } = database;

  const listPage = pageStatements<MetricPoint>(database, 'metrics_list', (where, orderBy) =>
    db.select({ metric: metricPoints.metric, date: metricPoints.date, value: metricPoints.value }).from(metricPoints).where(where).orderBy(orderBy),
  );
  const summaryShapes = shapeCache<ReturnType<typeof database.statement<Record<string, unknown>>>>();

  async function list(tenantId: string, query: ListQuery<MetricFilter, MetricOrder>): Promise<Page<MetricPoint>> {
    const where = metricWhere(tenantId, query.filter.metric, resolveDateRange(query.filter, now()));
    return fetchPage(query.page, query.order, newestFirst, (page) => listPage(where, page));
  }

  async function summarize(tenantId: string, filter: MetricFilter): Promise<MetricSummary> {
    const range = resolveDateRange(filter, now());
    const where = metricWhere(tenantId, filter.metric, range);
    const statement = summaryShapes(where.shape, () =>
      database.statement<Record<string, unknown>>(
        () => sql`WITH ${pointsWithHalves(where)} SELECT ${SUMMARY_COLUMNS} FROM p`,
      ),
    );
    const [row] = await statement(where.values);
    return summaryOf(row, range);
  }

  const withSummaryShapes = shapeCache<ReturnType<typeof database.statement<Record<string, unknown>>>>();

  // Every point of one metric over a short closed period, newest first, as one JSON text.
  const allPointsShapes = shapeCache<ReturnType<typeof database.statement<{ points: string }>>>();

  async function firstPageWithSummary(tenantId: string, filter: MetricFilter, first: number) {
    const range = resolveDateRange(filter, now());
    const where = metricWhere(tenantId, filter.metric, range);
    const most = mostPoints(filter.metric, range);
    if (most !== null && most <= POINTS_SUMMED_HERE) {
      const statement = allPointsShapes(where.shape, () =>
        database.statement<{ points: string }>(
          () => sql`
      SELECT coalesce(json_agg(json_build_array(metric, date, value) ORDER BY date DESC), '[]')::text AS points
        FROM metric_points WHERE ${and(...where.conditions())}`,
        ),
      );
      const [row] = await statement(where.values);
      const points = (JSON.parse(row.points) as [string, string, number][]).map(([metric, day, value]): MetricPoint => ({ metric, date: day, value }));
      const page = toPage(points, { first, after: null, page: null }, (p) => encodeCursor('NEWEST_FIRST', newestFirst.key(p)));
      return { page, summary: summaryOfPoints(points, range) };
    }
    // One row: the summary and the page's points (newest first) as one JSON text, which JSON.parse reads faster than
    // the driver reads 30 rows (the summary repeated on each point's row cost more CPU than a second statement).
    const statement = withSummaryShapes(where.shape, () =>
      database.statement<Record<string, unknown>>(
        () => sql`
      WITH ${pointsWithHalves(where)}, page AS (SELECT metric, date, value FROM p ORDER BY date DESC, metric LIMIT ${sql.placeholder('limit')})
      SELECT ${SUMMARY_COLUMNS},
             (SELECT coalesce(json_agg(json_build_array(metric, date, value) ORDER BY date DESC, metric), '[]')::text FROM page) AS points
        FROM p`,
      ),
    );
    const [row] = await statement({ ...where.values, limit: first + 1 });
    const points = (JSON.parse(row.points as string) as [string, string, number][]).map(([metric, day, value]): MetricPoint => ({ metric, date: day, value }));
    const page = toPage(points, { first, after: null, page: null }, (p) => encodeCursor('NEWEST_FIRST', newestFirst.key(p)));
    return { page, summary: summaryOf(row, range) };
  }

  async function names(tenantId: string): Promise<string[]> {
    const rows = await db
      .selectDistinct({ metric: metricPoints.metric })
      .from(metricPoints)
      .where(eq(metricPoints.tenantId, tenantId))
      .orderBy(metricPoints.metric);
    return rows.map((r) => r.metric);
  }

  return {
    source: 'metrics',
    list,
    summarize,
    names,
    firstPageWithSummary,
    freshness: sourceFreshness(database, 'metrics'),
  };
}
