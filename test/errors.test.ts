// Every argument bound gives a GraphQL error naming the argument and the rule (BAD_USER_INPUT, HTTP 200, data null);
// unexpected failures are masked with a request id and never leak internals.
import { sql } from 'drizzle-orm';
import { createClient } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { GraphQLError } from 'graphql';
import { maskError } from '../src/server/errors';
import { RemoteTurnLostError } from '../src/voice/redis-events';
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

const cursor = (key: unknown[]) => Buffer.from(JSON.stringify(key)).toString('base64url');
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
    // Found by test/fuzz.test.ts: each of these reached SQL and failed there as an internal error.
    ['a NUL character in a search', tickets, { filter: { search: 'a\u0000b' } }, 'filter.search', /must not contain the NUL character/],
    ['a NUL character in a customer search', customers, { filter: { search: '\u0000' } }, 'filter.search', /must not contain the NUL character/],
    ['a NUL character in a metric name', 'query($m: String!) { metricSummary(metric: $m) { average } }', { m: 'revenue\u0000' }, 'metric', /must not contain the NUL character/],
    // With voice on, the turn's outcome could not be stored and it stayed RUNNING (this server has no voice: the
    // argument check answers before the resolver would say VOICE_DISABLED).
    ['a NUL character in a voice turn', 'mutation($t: String) { voiceTurn(input: { text: $t }) { id } }', { t: 'how many\u0000' }, 'input.text', /must not contain the NUL character/],
    ['a NUL character in a metric filter', metrics, { filter: { metric: '\u0000' } }, 'filter.metric', /must not contain the NUL character/],
    ['a cursor with a fractional id', customers, { after: cursor(['CUSTOMER_ID_ASC', 1.5]) }, 'after', /malformed cursor/],
    ['a cursor with an id beyond 32 bits', tickets, { after: cursor(['PRIORITY', 1, '2026-11-20T10:00:00.000Z', 2 ** 40]) }, 'after', /malformed cursor/],
    ['a cursor with a NUL character in a name', customers, { orderBy: 'NAME_ASC', after: cursor(['NAME_ASC', 'a\u0000', 3]) }, 'after', /malformed cursor/],
    ['a cursor with February 30', customers, { orderBy: 'NEWEST_FIRST', after: cursor(['NEWEST_FIRST', '2026-02-30T00:00:00.000Z', 3]) }, 'after', /malformed cursor/],
    ['a cursor in year 0000', tickets, { after: cursor(['PRIORITY', 1, '0000-01-01T00:00:00.000Z', 3]) }, 'after', /malformed cursor/],
    ['a metric cursor with February 31', 'query($after: String) { metrics(after: $after) { totalCount } }', { after: cursor(['NEWEST_FIRST', '2026-02-31', 'revenue']) }, 'after', /malformed cursor/],
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

/** Every error of a response has a code, and none carries a stack trace or SQL. */
function expectCoded(r: Awaited<ReturnType<TestServer['query']>>, code: string, message?: RegExp) {
  expect(r.status).toBeLessThan(500);
  expect(r.errors?.length).toBeGreaterThan(0);
  for (const error of r.errors!) expect(error.extensions?.code).toBe(code);
  if (message) expect(r.errors![0].message).toMatch(message);
  expect(JSON.stringify(r)).not.toMatch(/\n\s+at |node_modules|\.ts:\d+|SELECT|relation "/);
}

const nodeQuery = 'query($id: ID!) { node(id: $id) { id } }';
const globalId = (text: string) => Buffer.from(text).toString('base64');

describe(`every client error has a code (${databaseKind})`, () => {
  it.each([
    ['not base64 at all', 'garbage', /"garbage" is not an id of this API/],
    ['empty', '', /"" is not an id of this API/],
    ['base64 without a type', globalId('12'), /is not an id of this API/],
    ['a type that does not exist', globalId('Foo:1'), /names the type "Foo", which has no ids; ids are of Customer or Ticket/],
    ['a type without ids', globalId('MetricPoint:1'), /names the type "MetricPoint"/],
    ['a key that is not a number', globalId('Customer:abc'), /key "abc" is not a whole number/],
    ['a key of 0', globalId('Ticket:0'), /key "0" is not a whole number/],
    ['a key beyond the id columns', globalId('Customer:99999999999'), /key "99999999999" is not a whole number from 1 to 2147483647/],
  ])('node(id) with an id that is %s is BAD_USER_INPUT saying why', async (_name, id, message) => {
    const r = await server.query(nodeQuery, { id });
    expectCoded(r, 'BAD_USER_INPUT', message);
    expect(r.errors![0].message).toMatch(/^id: .*pass the id field of an object this API returned$/);
    expect(r.errors![0].extensions?.argument).toBe('id');
    expect(r.data).toEqual({ node: null });
  });

  it('a very long id is quoted shortened', async () => {
    const r = await server.query(nodeQuery, { id: 'x'.repeat(100_000) });
    expectCoded(r, 'BAD_USER_INPUT');
    expect(r.errors![0].message.length).toBeLessThan(300);
  });

  it('a well-formed id that finds nothing is null, not an error', async () => {
    const r = await server.query(nodeQuery, { id: globalId('Customer:424242') });
    expect(r).toEqual({ status: 200, data: { node: null } });
  });

  it.each([
    ['an unknown enum value', 'query($o: CustomerOrder) { customers(orderBy: $o) { totalCount } }', { o: 'NOPE' }, /Value "NOPE" does not exist in "CustomerOrder" enum/],
    ['an unknown enum value inside an input object', 'query($f: TicketFilter) { tickets(filter: $f) { totalCount } }', { f: { status: 'open' } }, /at "f.status"/],
    ['a missing required variable', 'query($n: Int!) { customer(customerId: $n) { name } }', {}, /Variable "\$n" of required type "Int!" was not provided/],
    ['null for a required variable', 'query($n: Int!) { customer(customerId: $n) { name } }', { n: null }, /must not be null/],
    ['a string for an Int', 'query($n: Int!) { customer(customerId: $n) { name } }', { n: 'abc' }, /Int cannot represent non-integer value/],
    ['an Int beyond 32 bits', 'query($n: Int!) { customer(customerId: $n) { name } }', { n: 2 ** 40 }, /non 32-bit signed integer/],
    ['an object for a String', 'query($s: String) { tickets(after: $s) { totalCount } }', { s: { a: 1 } }, /String cannot represent a non string value/],
    ['an unknown field in an input object', 'query($f: TicketFilter) { tickets(filter: $f) { totalCount } }', { f: { nope: 1 } }, /Field "nope" is not defined by type "TicketFilter"/],
  ])('a variable with %s is BAD_USER_INPUT (yoga answers 400)', async (_name, query, variables, message) => {
    const r = await server.query(query, variables);
    expectCoded(r, 'BAD_USER_INPUT', message);
    expect(r.status).toBe(400);
  });

  it('null passed through a nullable variable into a required argument is BAD_USER_INPUT', async () => {
    const r = await server.query('query($n: Int = 1) { customer(customerId: $n) { name } metricNames }', { n: null });
    expectCoded(r, 'BAD_USER_INPUT', /Argument "customerId" of non-null type "Int!" must not be null/);
    expect(r.data.customer).toBeNull();
    expect(r.data.metricNames.length).toBeGreaterThan(0);
  });

  it('syntax and validation errors keep the codes yoga gives them', async () => {
    expectCoded(await server.query('{ tickets { totalCount '), 'GRAPHQL_PARSE_FAILED', /Syntax Error/);
    expectCoded(await server.query('{ nope }'), 'GRAPHQL_VALIDATION_FAILED', /Cannot query field "nope"/);
    expectCoded(await server.query('{ tickets(first: "x") { totalCount } }'), 'GRAPHQL_VALIDATION_FAILED', /Int cannot represent/);
    expectCoded(await server.query('query($n: Int) { customer(customerId: $n) { name } }', {}), 'GRAPHQL_VALIDATION_FAILED', /Variable "\$n" of type "Int" used in position expecting type "Int!"/);
  });

  // Found by test/fuzz.test.ts: JavaScript reads these days (PostgreSQL does not), so they failed in SQL.
  it.each([
    ['a DateTime in year 0000', 'query($f: TicketFilter) { tickets(filter: $f) { totalCount } }', { f: { createdAfter: '0000-01-01T00:00:00Z' } }, /DateTime must be .* in years 0001 to 9999/],
    ['a DateTime whose offset moves it before year 0001', 'query($f: CustomerFilter) { customers(filter: $f) { totalCount } }', { f: { createdBefore: '0001-01-01T00:00:00+14:00' } }, /DateTime must be/],
    ['a DateTime whose offset moves it past year 9999', 'query($f: CustomerFilter) { customers(filter: $f) { totalCount } }', { f: { createdAfter: '9999-12-31T23:59:59-14:00' } }, /DateTime must be/],
    ['a DateTime on February 30', 'query($f: TicketFilter) { tickets(filter: $f) { totalCount } }', { f: { createdAfter: '2026-02-30T00:00:00Z' } }, /DateTime must be/],
    ['a Date in year 0000', 'query($d: Date) { metricSummary(metric: "revenue", from: $d) { average } }', { d: '0000-01-01' }, /Date must be a calendar date .* in years 0001 to 9999/],
    ['a Date in month 13', 'query($d: Date) { metricSummary(metric: "revenue", to: $d) { average } }', { d: '2026-13-45' }, /Date must be a calendar date/],
  ])('%s is BAD_USER_INPUT', async (_name, query, variables, message) => {
    expectCoded(await server.query(query, variables), 'BAD_USER_INPUT', message);
  });

  it('over graphql-ws too: a syntax error, a validation error and a bad variable each carry a code', async () => {
    const client = createClient({ url: server.wsUrl, webSocketImpl: WebSocket, retryAttempts: 0, lazy: true });
    const errorsOf = (query: string, variables?: Record<string, unknown>) =>
      new Promise<{ message: string; extensions?: Record<string, unknown> }[]>((resolve, reject) => {
        client.subscribe(
          { query, variables },
          {
            next: (result) => result.errors && resolve(result.errors as never),
            error: (error) => (Array.isArray(error) ? resolve(error) : reject(error)),
            complete: () => resolve([]),
          },
        );
      });
    try {
      const [parse] = await errorsOf('{ tickets { totalCount ');
      expect(parse).toMatchObject({ message: expect.stringMatching(/Syntax Error/), extensions: { code: 'GRAPHQL_PARSE_FAILED' } });
      const [validation] = await errorsOf('{ nope }');
      expect(validation.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
      const [variable] = await errorsOf('query($o: CustomerOrder) { customers(orderBy: $o) { totalCount } }', { o: 'NOPE' });
      expect(variable).toMatchObject({ message: expect.stringMatching(/"NOPE" does not exist/), extensions: { code: 'BAD_USER_INPUT' } });
    } finally {
      await client.dispose();
    }
  });

  it('counts a window that starts on the last representable day (its next whole day is in year 10000)', async () => {
    // Found by test/fuzz.test.ts: the daily rollup's "from" day was written "+010000-01-01" and SQL failed.
    for (const root of ['tickets', 'customers']) {
      const r = await server.query(`{ ${root}(filter: { createdAfter: "9999-12-31T23:59:59.999Z" }) { totalCount voiceSummary } }`);
      expect(r.errors).toBeUndefined();
      expect(r.data[root].totalCount).toBe(0);
    }
  });

  it('a value the server cannot serialize is an internal error, masked and logged, not a raw GraphQL message', async () => {
    // A stored status outside the GraphQL enum: the server's fault, not the client's.
    await server.database.rows(sql`ALTER TYPE customer_status ADD VALUE IF NOT EXISTS 'archived'`);
    const [{ status }] = await server.database.rows<{ status: string }>(sql`SELECT status FROM customers WHERE customer_id = 1`);
    await server.database.rows(sql`UPDATE customers SET status = 'archived' WHERE customer_id = 1`);
    try {
      const r = await server.query('{ customer(customerId: 1) { status } }', undefined, { 'x-request-id': 'req-enum-7' });
      expectCoded(r, 'INTERNAL_SERVER_ERROR', /req-enum-7/);
      expect(JSON.stringify(r)).not.toMatch(/archived|CustomerStatus|cannot represent/);
      expect(r.data).toEqual({ customer: null });
    } finally {
      await server.database.rows(sql`UPDATE customers SET status = ${status}::customer_status WHERE customer_id = 1`);
    }
  });
});

describe('errors that mean "retry later"', () => {
  it('keep SERVICE_UNAVAILABLE even when thrown by a running subscription stream (yoga\'s last net)', () => {
    const lost = maskError(new RemoteTurnLostError('turn-1'), 'Unexpected error.', false) as GraphQLError;
    expect(lost.extensions.code).toBe('SERVICE_UNAVAILABLE');
    expect(lost.message).toMatch(/Lost the connection to Redis .* subscribe again in a moment/);
    const database = maskError(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }), 'Unexpected error.', false) as GraphQLError;
    expect(database.extensions.code).toBe('SERVICE_UNAVAILABLE');
    expect(database.message).toBe('The database is unavailable for a moment; retry shortly.');
    // Anything else is yoga's masking: no message, no stack.
    const other = maskError(new Error('secret internals'), 'Unexpected error.', false) as GraphQLError;
    expect(other.message).toBe('Unexpected error.');
    expect(other.extensions.code).toBe('INTERNAL_SERVER_ERROR');
  });
});
