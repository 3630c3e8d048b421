// Relations without N+1: the number of SQL statements for a page does not grow with the page size.
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseKind } from './helpers/database';
import { type TestServer, startTestServer } from './helpers/server';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ data: { customers: 150, tickets: 400, days: 30, seed: 9, anchorDate: '2026-11-24' } });
});
afterAll(() => server?.stop());

async function statementsFor(query: string, variables?: Record<string, unknown>) {
  server.statements.length = 0;
  const r = await server.query(query, variables);
  expect(r.errors).toBeUndefined();
  return { count: server.statements.length, data: r.data };
}

describe(`counts beside the page (${databaseKind})`, () => {
  it('sends the count statement before the page statement when totalCount is asked for, and not at all otherwise', async () => {
    const counted = await statementsFor('{ tickets(filter: {status: OPEN}, first: 3) { totalCount nodes { ticketId } } }');
    expect(counted.count).toBe(2);
    expect(server.statements[0]).toMatch(/ticket_counts/);
    expect(server.statements[1]).toMatch(/from "tickets"/);
    const plain = await statementsFor('{ tickets(filter: {status: OPEN}, first: 3) { nodes { ticketId } } }');
    expect(plain.count).toBe(1);
    expect(server.statements.join('\n')).not.toMatch(/ticket_counts|count\(/);
  });

  it('does not count the outer connection for a totalCount asked only of a nested one', async () => {
    await statementsFor('{ customers(first: 2) { nodes { tickets(first: 1) { totalCount } } } }');
    expect(server.statements.join('\n')).not.toMatch(/customer_counts/);
    const counted = await statementsFor('{ customers(first: 2) { ...counts nodes { customerId } } } fragment counts on CustomerConnection { voiceSummary }');
    expect(counted.data.customers.voiceSummary).toMatch(/customers/);
    expect(server.statements[0]).toMatch(/customer_counts/);
  });
});

describe(`one summary statement per metric and period per request (${databaseKind})`, () => {
  it('metricSummary and a metrics totalCount over the same period share one aggregate; another period reads its own', async () => {
    const query = `query ($from: Date!, $to: Date!, $other: Date!) {
      summary: metricSummary(metric: "daily_active_users", from: $from, to: $to) { dataPoints average }
      points: metrics(filter: {metric: "daily_active_users", from: $from, to: $to}, first: 3) { totalCount voiceSummary nodes { value } }
      again: metricSummary(metric: "daily_active_users", from: $other, to: $to) { dataPoints } }`;
    const same = await statementsFor(query, { from: '2026-11-10', to: '2026-11-24', other: '2026-11-10' });
    // Every read of the points, whether PostgreSQL sums them (the summary alone) or the server does (with a first page).
    const summaries = () => server.statements.filter((statement) => /metric_points/.test(statement)).length;
    expect(summaries()).toBe(1);
    expect(same.data.summary.dataPoints).toBe(15);
    expect(same.data.points.totalCount).toBe(15);
    const other = await statementsFor(query, { from: '2026-11-10', to: '2026-11-24', other: '2026-11-20' });
    expect(summaries()).toBe(2);
    expect(other.data.again.dataPoints).toBe(5);
  });
});

describe(`the metric question in one statement (${databaseKind})`, () => {
  const summaryFields = 'metric from to dataPoints average min max latestValue latestDate trend voiceSummary';
  const pageFields = 'totalCount voiceSummary pageInfo { hasNextPage hasPreviousPage endCursor } edges { cursor node { id metric date value } }';

  it('answers metricSummary and a first metrics page over the same period with one statement, as asked apart', async () => {
    const vars = { from: '2026-11-01', to: '2026-11-24' };
    const both = await statementsFor(
      `query($from: Date!, $to: Date!) { s: metricSummary(metric: "daily_active_users", from: $from, to: $to) { ${summaryFields} }
        p: metrics(filter: {metric: "daily_active_users", from: $from, to: $to}, first: 7) { ${pageFields} } }`,
      vars,
    );
    expect(both.count).toBe(1);
    const summary = await statementsFor(`query($from: Date!, $to: Date!) { s: metricSummary(metric: "daily_active_users", from: $from, to: $to) { ${summaryFields} } }`, vars);
    const page = await statementsFor(`query($from: Date!, $to: Date!) { p: metrics(filter: {metric: "daily_active_users", from: $from, to: $to}, first: 7) { ${pageFields} } }`, vars);
    expect(both.data).toEqual({ ...summary.data, ...page.data });
    const truth = await server.database.rows<{ n: number }>(
      sql`SELECT count(*)::int AS n FROM metric_points WHERE tenant_id = 'default' AND metric = 'daily_active_users' AND date BETWEEN '2026-11-01' AND '2026-11-24'`,
    );
    expect(both.data.p.totalCount).toBe(truth[0].n);
    // The next page from its cursor follows on.
    const next = await server.query(`query($after: String) { metrics(filter: {metric: "daily_active_users", from: "2026-11-01", to: "2026-11-24"}, first: 100, after: $after) { edges { node { date } } } }`, {
      after: both.data.p.pageInfo.endCursor,
    });
    const all = await server.query('{ metrics(filter: {metric: "daily_active_users", from: "2026-11-01", to: "2026-11-24"}, first: 100) { edges { node { date } } } }');
    expect([...both.data.p.edges.map((e: any) => e.node.date), ...next.data.metrics.edges.map((e: any) => e.node.date)]).toEqual(all.data.metrics.edges.map((e: any) => e.node.date));
  });

  it('reads apart what does not match (another period, a later page, a page alone) and reports a bad period', async () => {
    const other = await statementsFor(
      '{ metricSummary(metric: "daily_active_users", lastDays: 3) { dataPoints } metrics(filter: {metric: "daily_active_users", from: "2026-11-20", to: "2026-11-24"}, first: 2) { totalCount } }',
    );
    expect(other.count).toBe(2); // the summary of the last 3 days; the page with its own period's summary
    expect(other.data.metrics.totalCount).toBe(5);
    const paged = await statementsFor('{ metricSummary(metric: "daily_active_users") { dataPoints } metrics(filter: {metric: "daily_active_users"}, first: 2, page: 2) { totalCount nodes { date } } }');
    expect(paged.count).toBe(2);
    expect(paged.data.metrics.totalCount).toBe(paged.data.metricSummary.dataPoints);
    // Two pages of one set under aliases: each its own rows.
    const twice = await statementsFor('{ a: metrics(filter: {metric: "daily_active_users"}, first: 2) { totalCount nodes { date } } b: metrics(filter: {metric: "daily_active_users"}, first: 3) { totalCount nodes { date } } }');
    expect(twice.data.a.nodes).toEqual(twice.data.b.nodes.slice(0, 2));
    expect(twice.data.b.nodes).toHaveLength(3);
    expect(twice.data.a.totalCount).toBe(twice.data.b.totalCount);
    expect(twice.count).toBe(2); // the first page with the summary, the second page apart
    await statementsFor('{ metrics(filter: {metric: "daily_active_users"}, first: 2) { nodes { date } } }');
    expect(server.statements).toHaveLength(1);
    expect(server.statements[0]).not.toMatch(/ntile/);
    // A bad period: the error of the one statement reaches the field, as without it (metricSummary is non-null, so
    // its error nulls the whole answer, the usual GraphQL rule).
    const bad = await server.query('{ metricSummary(metric: "daily_active_users", lastDays: 3, from: "2026-11-01") { dataPoints } metrics(filter: {metric: "daily_active_users", lastDays: 3, from: "2026-11-01"}) { totalCount } }');
    expect(bad.data).toBeNull();
    expect(bad.errors?.[0].message).toMatch(/lastDays: cannot be combined/);
    const badPage = await server.query('{ metrics(filter: {metric: "daily_active_users", lastDays: 3, from: "2026-11-01"}) { totalCount nodes { date } } }');
    expect(badPage.errors?.map((e) => [e.path?.[0], e.extensions?.code])).toEqual([['metrics', 'BAD_USER_INPUT']]);
  });
});

describe(`N+1 guard (${databaseKind})`, () => {
  it('tickets { customer { name } } costs the same number of statements for 10 and 100 tickets', async () => {
    const query = 'query($n: Int) { tickets(first: $n, orderBy: TICKET_ID_ASC) { nodes { ticketId customer { name email } } } }';
    const small = await statementsFor(query, { n: 10 });
    const large = await statementsFor(query, { n: 100 });
    expect(large.data.tickets.nodes).toHaveLength(100);
    expect(new Set(large.data.tickets.nodes.map((n: any) => n.customer.name)).size).toBeGreaterThan(10);
    expect(large.count).toBe(small.count);
    expect(large.count).toBeLessThanOrEqual(2); // the page, then one batched customer load
  });

  it('customers { tickets { totalCount nodes } } costs the same for 5 and 100 customers', async () => {
    const query = 'query($n: Int) { customers(first: $n) { totalCount nodes { name tickets(first: 3, filter: { status: OPEN }) { totalCount voiceSummary nodes { subject customer { customerId } } } } } }';
    const small = await statementsFor(query, { n: 5 });
    const large = await statementsFor(query, { n: 100 });
    expect(large.data.customers.nodes).toHaveLength(100);
    expect(large.count).toBe(small.count);
  });

  it('batched ticket pages and counts per customer match the per-customer query', async () => {
    const batched = await server.query('{ customers(first: 30) { nodes { customerId tickets(first: 2, orderBy: NEWEST_FIRST) { totalCount nodes { ticketId } } } } }');
    for (const c of batched.data.customers.nodes.slice(0, 30)) {
      const single = await server.query('query($id: Int) { tickets(filter: { customerId: $id }, first: 2, orderBy: NEWEST_FIRST) { totalCount nodes { ticketId } } }', { id: c.customerId });
      expect(c.tickets).toEqual(single.data.tickets);
    }
  });
});

describe(`one customer with their first tickets in one statement (${databaseKind})`, () => {
  const nested = (args: string, directive = '') => `query($id: Int!) { customer(customerId: $id) { customerId name email status createdAt
    tickets${args}${directive} { totalCount voiceSummary metadata { totalResults returnedResults totalPages queryContext }
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor node { ticketId customerId subject priority status createdAt } } } } }`;
  // The same question through the batched path: a directive on the tickets field keeps the lookahead out.
  const batched = (args: string) => nested(args, ' @include(if: true)');
  const everyCustomer = async (): Promise<{ customerId: number; tickets: { totalCount: number } }[]> => {
    const pages = await Promise.all([1, 2].map((page) => server.query(`{ customers(first: 100, page: ${page}) { nodes { customerId tickets(first: 1) { totalCount } } } }`)));
    return pages.flatMap((r) => r.data.customers.nodes);
  };

  it('answers customer { tickets(first: 5) { … } } with one statement, the same answer as the batched path', async () => {
    const one = await statementsFor(nested('(first: 5)'), { id: 3 });
    // The one statement, and the freshness of metadata (data_changes), nothing else.
    expect(server.statements.filter((s) => /"tickets"/.test(s))).toHaveLength(1);
    expect(server.statements.filter((s) => !/data_changes/.test(s))).toHaveLength(1);
    const three = await statementsFor(batched('(first: 5)'), { id: 3 });
    expect(three.count).toBeGreaterThan(one.count);
    expect(one.data).toEqual(three.data);
    const truth = await server.database.rows<{ n: number }>(sql`SELECT count(*)::int AS n FROM tickets WHERE tenant_id = 'default' AND customer_id = 3`);
    expect(one.data.customer.tickets.totalCount).toBe(truth[0].n);
  });

  it('gives the batched answer for every order and page size, and pages on from its cursor', async () => {
    const busiest = (await everyCustomer()).reduce((a, b) => (b.tickets.totalCount > a.tickets.totalCount ? b : a));
    expect(busiest.tickets.totalCount).toBeGreaterThan(3);
    for (const order of ['PRIORITY', 'NEWEST_FIRST', 'OLDEST_FIRST', 'TICKET_ID_ASC', 'TICKET_ID_DESC']) {
      for (const first of [1, 3, 100]) {
        const args = `(orderBy: ${order}, first: ${first})`;
        const one = await statementsFor(nested(args), { id: busiest.customerId });
        expect(server.statements.filter((s) => !/data_changes/.test(s)), `${order} ${first}`).toHaveLength(1);
        expect(one.data, `${order} ${first}`).toEqual((await server.query(batched(args), { id: busiest.customerId })).data);
      }
      // The next page from the one statement's cursor follows on without a gap or a repeat.
      const firstPage = (await server.query(nested(`(orderBy: ${order}, first: 2)`), { id: busiest.customerId })).data.customer.tickets;
      const next = await server.query(`query($id: Int!, $after: String) { customer(customerId: $id) { tickets(orderBy: ${order}, first: 100, after: $after) { edges { node { ticketId } } } } }`, {
        id: busiest.customerId,
        after: firstPage.pageInfo.endCursor,
      });
      const all = (await server.query(nested(`(orderBy: ${order}, first: 100)`), { id: busiest.customerId })).data.customer.tickets.edges.map((e: any) => e.node.ticketId);
      expect([...firstPage.edges.map((e: any) => e.node.ticketId), ...next.data.customer.tickets.edges.map((e: any) => e.node.ticketId)]).toEqual(all);
    }
  });

  it('reads the counts only when asked, and answers a customer without tickets and a missing one', async () => {
    await statementsFor('{ customer(customerId: 3) { name tickets(first: 2) { nodes { ticketId } } } }');
    expect(server.statements).toHaveLength(1);
    expect(server.statements[0]).not.toMatch(/count\(/);

    const idle = (await everyCustomer()).find((c) => c.tickets.totalCount === 0)!;
    expect(idle, 'the test data has a customer without tickets').toBeDefined();
    const none = await statementsFor(nested('(first: 5)'), { id: idle.customerId });
    expect(none.data).toEqual((await server.query(batched('(first: 5)'), { id: idle.customerId })).data);
    expect(none.data.customer.tickets.totalCount).toBe(0);
    expect(none.data.customer.tickets.edges).toEqual([]);

    const missing = await statementsFor(nested('(first: 5)'), { id: 999_999 });
    expect(missing.data).toEqual({ customer: null });
    expect(missing.count).toBe(1);
  });

  it('leaves filters, cursors, bad arguments and two tickets fields to the batched path', async () => {
    const filtered = await statementsFor(nested('(first: 5, filter: {status: OPEN})'), { id: 3 });
    expect(filtered.count).toBeGreaterThan(1);
    expect(filtered.data.customer.tickets.edges.every((e: any) => e.node.status === 'OPEN')).toBe(true);
    const twice = await statementsFor('{ customer(customerId: 3) { a: tickets(first: 1) { nodes { ticketId } } b: tickets(first: 2) { nodes { ticketId } } } }');
    expect(twice.data.customer.b.nodes.slice(0, 1)).toEqual(twice.data.customer.a.nodes);
    const bad = await server.query(nested('(first: 0)'), { id: 3 });
    expect(bad.errors?.[0].message).toMatch(/first/);
  });
});
