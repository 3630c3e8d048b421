// Analytics metrics: MetricPoint, Query.metrics (a time-series connection), Query.metricSummary and Query.metricNames.
import type { MetricFilter, MetricPoint, MetricSummary } from '../connectors/metrics';
import type { Page, PageRequest } from '../connectors/types';
import { metricsVoiceSummary, trendOf } from '../insights';
import { builder } from './builder';
import { type GraphQLContext, requestScoped } from './context';
import { connectionResult, pageRequest, pagingArgs, summaryFor } from './connection';
import { TrendEnum } from './enums';
import { lastDaysValidation, noNulCharacter } from './validation';

const metricNameValidation = {
  minLength: [1, { message: 'must be 1 to 100 characters' }],
  maxLength: [100, { message: 'must be 1 to 100 characters' }],
  regex: noNulCharacter,
} satisfies import('@pothos/plugin-zod').StringValidationOptions;

/**
 * The metric statements of one request, gathered until the current resolvers have run (root fields resolve in one
 * pass): a question that asks for `metricSummary` and a first `metrics` page over the same metric and period (the
 * usual voice question) gets the summary and the page in one statement. One summary per metric and period per
 * request either way; another period, a later page, or a page asked after the summary was sent reads its own.
 */
const metricReads = requestScoped((ctx: GraphQLContext) => {
  const { metrics } = ctx.connectors;
  type Read = { summary?: MetricSummary; page?: Page<MetricPoint> };
  /** What has been asked of each metric and period whose read has not started yet. */
  const gathering = new Map<string, { summary: boolean; first: number | null; read: Promise<Read> }>();
  const summaries = new Map<string, Promise<MetricSummary>>();
  const keyOf = (filter: MetricFilter) => JSON.stringify([filter.metric ?? null, filter.from ?? null, filter.to ?? null, filter.lastDays ?? null]);

  function gather(key: string, filter: MetricFilter) {
    let asked = gathering.get(key);
    if (!asked) {
      const wanted: { summary: boolean; first: number | null } = { summary: false, first: null };
      // Starts once the resolvers running now have said what they want.
      const read = Promise.resolve().then(async (): Promise<Read> => {
        gathering.delete(key);
        if (wanted.summary && wanted.first !== null) return metrics.firstPageWithSummary(ctx.tenantId, filter, wanted.first);
        if (wanted.summary) return { summary: await metrics.summarize(ctx.tenantId, filter) };
        return { page: await metrics.list(ctx.tenantId, { filter, order: 'NEWEST_FIRST', page: { first: wanted.first! } }) };
      });
      asked = Object.assign(wanted, { read });
      gathering.set(key, asked);
    }
    return asked;
  }

  return {
    summary(filter: MetricFilter): Promise<MetricSummary> {
      const key = keyOf(filter);
      let run = summaries.get(key);
      if (!run) {
        const asked = gather(key, filter);
        asked.summary = true;
        run = asked.read.then((read) => read.summary!);
        summaries.set(key, run);
      }
      return run;
    },
    page(filter: MetricFilter, request: PageRequest): Promise<Page<MetricPoint>> {
      const key = keyOf(filter);
      const asked = gathering.get(key);
      const firstPage = request.after == null && (request.page ?? 1) === 1;
      // A later page, a second page of the same set, or one whose summary is already on its way: read apart.
      if (!firstPage || asked?.first != null || (!asked && summaries.has(key))) {
        return metrics.list(ctx.tenantId, { filter, order: 'NEWEST_FIRST', page: request });
      }
      const gathered = gather(key, filter);
      gathered.first = request.first;
      return gathered.read.then((read) => read.page!);
    },
  };
});

export const MetricPointRef = builder.objectRef<MetricPoint>('MetricPoint').implement({
  description: 'One daily value of a metric.',
  fields: (t) => ({
    id: t.id({
      description: 'Stable key of this point for normalised client caches (Apollo, urql): metric and date. Opaque; not a Node id.',
      resolve: (p) => `${p.metric}:${p.date}`,
    }),
    metric: t.exposeString('metric'),
    date: t.expose('date', { type: 'Date' }),
    value: t.exposeFloat('value'),
  }),
});

export const MetricFilterInput = builder.inputType('MetricFilter', {
  fields: (t) => ({
    metric: t.string({ description: 'One metric by name (see metricNames).', validate: metricNameValidation }),
    from: t.field({ type: 'Date', description: 'First day, inclusive.' }),
    to: t.field({ type: 'Date', description: 'Last day, inclusive.' }),
    lastDays: t.int({ description: 'The N days ending today (UTC), 1 to 3650; not with from/to.', validate: lastDaysValidation }),
  }),
});

export const MetricConnection = builder.connectionObject({ type: MetricPointRef, name: 'MetricConnection' }, { name: 'MetricEdge' });

interface MetricSummaryShape {
  metric: string;
  from: string | null;
  to: string | null;
  dataPoints: number;
  average: number | null;
  min: number | null;
  max: number | null;
  latestValue: number | null;
  latestDate: string | null;
  trend: 'UP' | 'DOWN' | 'FLAT';
  voiceSummary: string;
}

const MetricSummaryRef = builder.objectRef<MetricSummaryShape>('MetricSummary').implement({
  description: 'Aggregates of one metric over a period (from the database, over every point in the period).',
  fields: (t) => ({
    id: t.id({
      description:
        'Stable key for normalised client caches (Apollo, urql): the metric and the resolved period (from, to), so summaries of different metrics or periods never merge. Opaque; not a Node id.',
      resolve: (s) => `${s.metric}:${s.from ?? ''}:${s.to ?? ''}`,
    }),
    metric: t.exposeString('metric'),
    from: t.expose('from', { type: 'Date', nullable: true, description: 'Start of the period asked for (or of the data).' }),
    to: t.expose('to', { type: 'Date', nullable: true, description: 'End of the period asked for (or of the data).' }),
    dataPoints: t.exposeInt('dataPoints'),
    average: t.exposeFloat('average', { nullable: true }),
    min: t.exposeFloat('min', { nullable: true }),
    max: t.exposeFloat('max', { nullable: true }),
    latestValue: t.exposeFloat('latestValue', { nullable: true }),
    latestDate: t.expose('latestDate', { type: 'Date', nullable: true }),
    trend: t.expose('trend', { type: TrendEnum }),
    voiceSummary: t.exposeString('voiceSummary'),
  }),
});

builder.queryFields((t) => ({
  metrics: t.field({
    type: MetricConnection,
    description: 'Daily metric points, newest first.',
    args: { filter: t.arg({ type: MetricFilterInput }), ...pagingArgs(t.arg) },
    resolve: async (_root, args, ctx, info) => {
      const filter: MetricFilter = { ...args.filter };
      const { metrics } = ctx.connectors;
      const reads = metricReads(ctx);
      const summary = summaryFor(info, () => reads.summary(filter));
      const page = await reads.page(filter, pageRequest(args));
      return connectionResult(page, {
        noun: 'data points',
        kind: 'time-series',
        filter: { ...filter },
        summary,
        total: (s) => s.dataPoints,
        speak: (s) => metricsVoiceSummary({ ...s, metric: filter.metric }),
        freshness: () => metrics.freshness(ctx.tenantId),
      });
    },
  }),
  metricSummary: t.field({
    type: MetricSummaryRef,
    description: 'Average, min, max, latest value and trend of one metric over a period (default: all its data).',
    args: {
      metric: t.arg.string({ required: true, validate: metricNameValidation }),
      from: t.arg({ type: 'Date' }),
      to: t.arg({ type: 'Date' }),
      lastDays: t.arg.int({ validate: lastDaysValidation }),
    },
    resolve: async (_root, args, ctx) => {
      const s = await metricReads(ctx).summary(args);
      return {
        metric: args.metric,
        from: s.range.from ?? s.firstDate,
        to: s.range.to ?? s.latestDate,
        dataPoints: s.dataPoints,
        average: s.average,
        min: s.min,
        max: s.max,
        latestValue: s.latestValue,
        latestDate: s.latestDate,
        trend: trendOf(s.olderHalfAverage, s.newerHalfAverage),
        voiceSummary: metricsVoiceSummary({ ...s, metric: args.metric }),
      };
    },
  }),
  metricNames: t.stringList({
    description: 'Names of the metrics that have data.',
    resolve: (_root, _args, ctx) => ctx.connectors.metrics.names(ctx.tenantId),
  }),
}));
