// Every argument bound gives a GraphQL error naming the argument and the rule (BAD_USER_INPUT, HTTP 200, data null);
// unexpected failures are masked with a request id and never leak internals.
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseKind } from './helpers/database';
import { type TestServer, startTestServer } from './helpers/server';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ data: { customers: 10, tickets: 30, days: 10, seed: 1, anchorDate: '2026-11-24' } });
});
afterAll(() => server?.stop());

async function expectBadInput(query: string, variables: Record<string, unknown>, argument: string, rule: RegExp) {
  const r = await server.query(query, variables);
  expect(r.status).toBe(200);
  // data is null for the rejected field: the whole data object for non-null connections, the field itself otherwise.
  expect(r.data === null || Object.values(r.data as object).every((v) => v === null)).toBe(true);
  expect(r.errors).toHaveLength(1);
  const [error] = r.errors!;
  expect(error.extensions?.code).toBe('BAD_USER_INPUT');
  expect(error.message.startsWith(`${argument}:`)).toBe(true);
  expect(error.message).toMatch(rule);
  expect(JSON.stringify(r)).not.toMatch(/\bat \w+ \(|node_modules|\.ts:\d+/);
}

const tickets = 'query($first: Int, $after: String, $page: Int, $filter: TicketFilter) { tickets(first: $first, after: $after, page: $page, filter: $filter) { totalCount } }';
const customers = 'query($first: Int, $page: Int, $filter: CustomerFilter, $after: String, $orderBy: CustomerOrder) { customers(first: $first, page: $page, filter: $filter, after: $after, orderBy: $orderBy) { totalCount } }';
const metrics = 'query($filter: MetricFilter, $first: Int) { metrics(filter: $filter, first: $first) { totalCount } }';
const summary = 'query($lastDays: Int, $from: Date, $to: Date) { metricSummary(metric: "revenue", lastDays: $lastDays, from: $from, to: $to) { average } }';

describe(`argument bounds (${databaseKind})`, () => {
  it.each([
    ['first 0', tickets, { first: 0 }, 'first', /between 1 and 100/],
    ['first 101', tickets, { first: 101 }, 'first', /between 1 and 100/],
    ['first -5 on customers', customers, { first: -5 }, 'first', /between 1 and 100/],
    ['first 1000 on metrics', metrics, { first: 1000 }, 'first', /between 1 and 100/],
    ['page 0', tickets, { page: 0 }, 'page', /1 or more/],
    ['page -1 on customers', customers, { page: -1 }, 'page', /1 or more/],
    ['after together with page', tickets, { page: 2, after: 'WyJQUklPUklUWSIsMSwiMjAyNi0xMS0yNVQxNjoxOTo0Ny43MjJaIiwzMzZd' }, 'page', /cannot be combined with after/],
    ['a malformed cursor', tickets, { after: 'not-a-cursor' }, 'after', /malformed cursor/],
    ['a cursor with the wrong value types', tickets, { after: Buffer.from('["PRIORITY","x","y","z"]').toString('base64url') }, 'after', /malformed cursor/],
    ['a cursor with a bad timestamp', tickets, { after: Buffer.from('["PRIORITY",1,"2026-13-45T99:00:00Z",3]').toString('base64url') }, 'after', /malformed cursor/],
    ['a cursor from another order', customers, { orderBy: 'NAME_ASC', after: Buffer.from('["CUSTOMER_ID_ASC",3]').toString('base64url') }, 'after', /belongs to orderBy CUSTOMER_ID_ASC/],
    ['an empty search', tickets, { filter: { search: '' } }, 'filter.search', /1 to 200 characters/],
    ['a 201-character search', customers, { filter: { search: 'x'.repeat(201) } }, 'filter.search', /1 to 200 characters/],
    ['lastDays 0', metrics, { filter: { lastDays: 0 } }, 'filter.lastDays', /between 1 and 3650/],
    ['lastDays 3651', summary, { lastDays: 3651 }, 'lastDays', /between 1 and 3650/],
    ['lastDays with from', summary, { lastDays: 7, from: '2026-01-01' }, 'lastDays', /cannot be combined with from or to/],
    ['from after to', summary, { from: '2026-05-01', to: '2026-04-01' }, 'from', /must be on or before to/],
    ['an empty metric name', 'query($m: String!) { metricSummary(metric: $m) { average } }', { m: '' }, 'metric', /1 to 100 characters/],
    ['a 101-character metric filter', metrics, { filter: { metric: 'm'.repeat(101) } }, 'filter.metric', /1 to 100 characters/],
    ['a negative customerId filter', tickets, { filter: { customerId: -3 } }, 'filter.customerId', /positive customer number/],
  ])('rejects %s', async (_name, query, variables, argument, rule) => {
    await expectBadInput(query, variables, argument, rule);
  });

  it('rejects bad paging on a nested connection (Customer.tickets) the same way', async () => {
    const r = await server.query('{ customer(customerId: 1) { tickets(page: 2, after: "abc") { totalCount } } }');
    expect(r.status).toBe(200);
    expect(r.errors?.[0]).toMatchObject({ message: expect.stringMatching(/^page: cannot be combined with after/), extensions: { code: 'BAD_USER_INPUT' } });
    expect(r.data).toEqual({ customer: null });
  });

  it('rejects a non-positive id on Query.customer and Query.ticket', async () => {
    await expectBadInput('{ customer(customerId: 0) { name } }', {}, 'customerId', /positive customer number/);
    await expectBadInput('{ ticket(ticketId: -1) { subject } }', {}, 'ticketId', /positive ticket number/);
  });

  it('keeps the other fields of a request when one field is rejected', async () => {
    const r = await server.query('{ bad: tickets(first: 0) { totalCount } ok: customers(first: 1) { totalCount } }');
    expect(r.status).toBe(200);
    // Connection fields are non-null, so a rejected one nulls the whole data object (GraphQL null propagation)…
    expect(r.data).toBeNull();
    // …which is why clients usually send one question per field; a nullable field keeps its siblings:
    const r2 = await server.query('{ customer(customerId: 0) { name } metricNames }');
    expect(r2.data?.metricNames?.length).toBeGreaterThan(0);
    expect(r2.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('explains a malformed DateTime or Date', async () => {
    const r = await server.query('query($f: TicketFilter) { tickets(filter: $f) { totalCount } }', { f: { createdAfter: 'yesterday' } });
    expect(r.errors?.[0].message).toMatch(/DateTime must be an ISO 8601 date-time/);
    const r2 = await server.query('{ metricSummary(metric: "revenue", from: "2026-02-30") { average } }');
    expect(r2.errors?.[0].message).toMatch(/Date must be a calendar date YYYY-MM-DD/);
  });
});

describe(`unexpected failures (${databaseKind})`, () => {
  it('masks an internal error with a request id, logs it, and keeps serving', async () => {
    // Break the schema under the server: the next query fails inside SQL.
    await server.database.rows(sql`ALTER TABLE tickets RENAME TO tickets_gone`);
    try {
      const r = await server.query('{ tickets { totalCount } }', undefined, { 'x-request-id': 'req-test-42' });
      expect(r.status).toBe(200);
      expect(r.errors?.[0].extensions?.code).toBe('INTERNAL_SERVER_ERROR');
      expect(r.errors?.[0].message).toContain('req-test-42');
      expect(JSON.stringify(r)).not.toMatch(/tickets_gone|relation|SELECT|stack|\.ts:\d+/i);
    } finally {
      await server.database.rows(sql`ALTER TABLE tickets_gone RENAME TO tickets`);
    }
    const ok = await server.query('{ tickets { totalCount } }');
    expect(ok.data.tickets.totalCount).toBe(30);
  });

  it('answers a syntax error with a GraphQL error, not a crash', async () => {
    const r = await server.query('{ tickets { totalCount ');
    expect(r.errors?.[0].message).toMatch(/Syntax Error/);
    const ok = await server.query('{ metricNames }');
    expect(ok.data.metricNames.length).toBeGreaterThan(0);
  });
});
