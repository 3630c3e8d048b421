// Query.metrics, Query.metricSummary and Query.metricNames through the real server, checked against analytics.json.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseKind } from './helpers/database';
import { type TestServer, generatedDataDir, startTestServer } from './helpers/server';
import { type Dataset, type SeedMetric, readDataset } from './helpers/truth';

let server: TestServer;
let data: Dataset;
const today = new Date().toISOString().slice(0, 10);

beforeAll(async () => {
  // Anchored today so lastDays (counted back from today) has data.
  const dir = await generatedDataDir({ customers: 5, tickets: 5, days: 45, seed: 3, anchorDate: today });
  data = readDataset(dir);
  server = await startTestServer({ data: dir });
});
afterAll(() => server?.stop());

const dayOffset = (days: number) => new Date(Date.parse(`${today}T00:00:00Z`) - days * 86_400_000).toISOString().slice(0, 10);
const inRange = (m: SeedMetric, from?: string, to?: string) => (!from || m.date >= from) && (!to || m.date <= to);
const newestFirst = (a: SeedMetric, b: SeedMetric) => (a.date < b.date ? 1 : a.date > b.date ? -1 : a.metric < b.metric ? -1 : 1);

describe(`metrics (${databaseKind})`, () => {
  it('lists metric names', async () => {
    const r = await server.query('{ metricNames }');
    expect(r.data.metricNames).toEqual([...new Set(data.metrics.map((m) => m.metric))].sort());
  });

  it('pages one metric newest first, by cursor to the end, as a time series', async () => {
    const truth = data.metrics.filter((m) => m.metric === 'revenue').sort(newestFirst);
    const seen: SeedMetric[] = [];
    let after: string | null = null;
    do {
      const r: any = await server.query(
        `query($after: String) { metrics(filter: { metric: "revenue" }, first: 20, after: $after) {
           totalCount metadata { dataType } nodes { metric date value } pageInfo { hasNextPage endCursor } } }`,
        { after },
      );
      expect(r.errors).toBeUndefined();
      expect(r.data.metrics.metadata.dataType).toBe('TIME_SERIES');
      expect(r.data.metrics.totalCount).toBe(truth.length);
      seen.push(...r.data.metrics.nodes);
      after = r.data.metrics.pageInfo.hasNextPage ? r.data.metrics.pageInfo.endCursor : null;
    } while (after);
    expect(seen).toEqual(truth);
  });

  it('pages every metric by page number over a from/to range', async () => {
    const from = dayOffset(20);
    const to = dayOffset(10);
    const truth = data.metrics.filter((m) => inRange(m, from, to)).sort(newestFirst);
    const seen: SeedMetric[] = [];
    for (let page = 1; page <= Math.ceil(truth.length / 7); page++) {
      const r = await server.query('query($f: MetricFilter, $p: Int) { metrics(filter: $f, first: 7, page: $p) { totalCount nodes { metric date value } } }', {
        f: { from, to },
        p: page,
      });
      expect(r.data.metrics.totalCount).toBe(truth.length);
      seen.push(...r.data.metrics.nodes);
    }
    expect(seen).toEqual(truth);
  });

  it('summarises a metric over the last N days: average, min, max, latest, trend and a spoken summary', async () => {
    const points = data.metrics.filter((m) => m.metric === 'daily_active_users' && inRange(m, dayOffset(13), today)).sort((a, b) => (a.date < b.date ? -1 : 1));
    const values = points.map((p) => p.value);
    const average = values.reduce((s, v) => s + v, 0) / values.length;
    const half = Math.ceil(values.length / 2);
    const older = values.slice(0, half).reduce((s, v) => s + v, 0) / half;
    const newer = values.slice(half).reduce((s, v) => s + v, 0) / (values.length - half);
    const change = (newer - older) / older;
    const trend = change > 0.05 ? 'UP' : change < -0.05 ? 'DOWN' : 'FLAT';
    const r = await server.query('{ metricSummary(metric: "daily_active_users", lastDays: 14) { metric from to dataPoints average min max latestValue latestDate trend voiceSummary } }');
    expect(r.errors).toBeUndefined();
    const s = r.data.metricSummary;
    expect(s).toMatchObject({ metric: 'daily_active_users', from: dayOffset(13), to: today, dataPoints: 14, min: Math.min(...values), max: Math.max(...values), latestValue: values.at(-1), latestDate: today, trend });
    expect(s.average).toBeCloseTo(average, 6);
    expect(s.voiceSummary).toContain(`Daily active users averaged ${new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 }).format(average)} over 14 days`);
    expect(s.voiceSummary).toContain(`The latest value is ${new Intl.NumberFormat('en-US').format(values.at(-1)!)}`);
  });

  it('answers a summary asked with its first page (summed by the server) exactly as one asked alone (summed by PostgreSQL)', async () => {
    const fields = 'from to dataPoints average min max latestValue latestDate trend voiceSummary';
    const periods = [
      [dayOffset(13), today], // even count
      [dayOffset(12), today], // odd: the older half takes the odd point
      [dayOffset(44), today], // every generated day
      [dayOffset(400), today], // longer than a year: PostgreSQL sums on both paths
      [today, today], // one point: no newer half
      [dayOffset(80), dayOffset(60)], // no points
    ];
    for (const [from, to] of periods) {
      const truth = data.metrics.filter((m) => m.metric === 'daily_active_users' && inRange(m, from, to)).sort(newestFirst);
      const oldestFirst = truth.map((m) => m.value).reverse();
      const alone = await server.query(`query($f: Date!, $t: Date!) { metricSummary(metric: "daily_active_users", from: $f, to: $t) { ${fields} } }`, { f: from, t: to });
      const withPage = await server.query(
        `query($f: Date!, $t: Date!) { metricSummary(metric: "daily_active_users", from: $f, to: $t) { ${fields} }
           metrics(filter: { metric: "daily_active_users", from: $f, to: $t }, first: 5) { totalCount nodes { metric date value } pageInfo { hasNextPage } } }`,
        { f: from, t: to },
      );
      expect(alone.errors).toBeUndefined();
      expect(withPage.errors).toBeUndefined();
      expect(withPage.data.metricSummary, `${from}..${to}`).toEqual(alone.data.metricSummary);
      expect(withPage.data.metricSummary.dataPoints).toBe(truth.length);
      // Summed oldest first, as PostgreSQL's avg adds: the same double to the last bit on both paths.
      expect(alone.data.metricSummary.average).toBe(truth.length ? oldestFirst.reduce((a, v) => a + v, 0) / truth.length : null);
      expect(withPage.data.metrics).toEqual({ totalCount: truth.length, nodes: truth.slice(0, 5), pageInfo: { hasNextPage: truth.length > 5 } });
    }
  });

  it('summarises an unknown metric as no data, not an error', async () => {
    const r = await server.query('{ metricSummary(metric: "no_such_metric") { dataPoints average trend voiceSummary } }');
    expect(r.data.metricSummary).toEqual({ dataPoints: 0, average: null, trend: 'FLAT', voiceSummary: 'I found no data for no such metric in that period.' });
  });

  it('summarises the metrics connection across metrics', async () => {
    const r = await server.query('{ metrics(filter: { lastDays: 7 }) { totalCount voiceSummary } }');
    const metricsCount = new Set(data.metrics.map((m) => m.metric)).size;
    expect(r.data.metrics.totalCount).toBe(7 * metricsCount);
    expect(r.data.metrics.voiceSummary).toMatch(new RegExp(`^I found ${7 * metricsCount} data points across ${metricsCount} metrics from `));
  });
});
