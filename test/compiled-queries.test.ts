// Compiled queries (src/server/compiled-queries.ts, graphql-jit) side by side with graphql-js's executor, over HTTP on
// one database: the same answers (data, errors with their codes, locations and paths, HTTP status) for the examples,
// fragments and directives, introspection, and each kind of error; when a document is compiled (from its second run
// by default; never a mutation or subscription). The fuzz test (fuzz.test.ts) compares generated operations the same way.
import { readFileSync, readdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Kind, getIntrospectionQuery, parse } from 'graphql';
import { loadConfig } from '../src/config';
import { compiledQueriesAfter } from '../src/server/compiled-queries';
import { type TestDatabase, createTestDatabase, databaseKind } from './helpers/database';
import { type TestServer, startTestServer } from './helpers/server';

let database: TestDatabase;
let compiled: TestServer;
let interpreted: TestServer;
let byDefault: TestServer;
const compilations: { operationName: string | null; compiled: boolean }[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
  compiled = await startTestServer({ database, data: { customers: 12, tickets: 60, days: 40, seed: 11, anchorDate: '2026-11-24' } });
  interpreted = await startTestServer({ database, http: { compiledQueries: false } });
  // The product's setting (compiled from the second run), told of each compilation.
  byDefault = await startTestServer({ database, http: { compiledQueries: { onCompile: (c) => compilations.push({ operationName: c.operationName, compiled: c.compiled }) } } });
});
afterAll(async () => {
  await compiled?.stop();
  await interpreted?.stop();
  await byDefault?.stop();
  await database?.close();
});

/** Status and body text of a POST /graphql. */
async function post(server: TestServer, body: unknown): Promise<{ status: number; text: string }> {
  const response = await fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json' }, body: JSON.stringify(body) });
  return { status: response.status, text: await response.text() };
}

/** Asks both servers (the compiled one twice, so that its second run is certainly compiled) and expects one answer. */
async function expectSameAnswer(body: { query: string; variables?: Record<string, unknown>; operationName?: string }) {
  const expected = await post(interpreted, body);
  for (let run = 0; run < 2; run++) {
    const actual = await post(compiled, body);
    expect({ status: actual.status, body: JSON.parse(actual.text) }).toEqual({ status: expected.status, body: JSON.parse(expected.text) });
    expect(actual.text).toBe(expected.text);
  }
  return JSON.parse(expected.text) as { data?: Record<string, unknown> | null; errors?: { message: string; extensions?: Record<string, unknown> }[] };
}

describe(`compiled queries answer as graphql-js does (${databaseKind})`, () => {
  it('every query among the examples, with their defaults and with variables given', async () => {
    const files = readdirSync('examples').filter((f) => f.endsWith('.graphql'));
    let queries = 0;
    for (const file of files) {
      const text = readFileSync(`examples/${file}`, 'utf8');
      for (const operation of parse(text).definitions) {
        if (operation.kind !== Kind.OPERATION_DEFINITION || operation.operation !== 'query') continue;
        queries++;
        const answer = await expectSameAnswer({ query: text, operationName: operation.name?.value });
        // Those that need no variable run as they are.
        const needsVariables = operation.variableDefinitions?.some((v) => v.type.kind === Kind.NON_NULL_TYPE && !v.defaultValue);
        if (!needsVariables) expect(answer.errors, `${file} ${operation.name?.value}`).toBeUndefined();
      }
    }
    expect(queries).toBeGreaterThanOrEqual(5);
    await expectSameAnswer({ query: readFileSync('examples/03-customer-with-tickets.graphql', 'utf8'), variables: { customerId: 4 } });
  });

  it('fragments, aliases, @skip/@include, nodes, interfaces and nested connections', async () => {
    const answer = await expectSameAnswer({
      query: `query Shapes($withEmail: Boolean!, $skipTickets: Boolean = false) {
        a: customers(first: 3, orderBy: CUSTOMER_ID_ASC) { ...Page edges { node { ...C } } }
        b: customers(first: 2, filter: { status: ACTIVE }) { totalCount voiceSummary nodes { ...C tickets(first: 2) @skip(if: $skipTickets) { totalCount nodes { id ticketId subject status priority createdAt } } } }
        t: tickets(first: 4, filter: { priority: HIGH }) { edges { cursor node { ... on Node { id } ... on Ticket { ticketId customer { name } } } } }
        metricNames
      }
      fragment Page on CustomerConnection { totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } metadata { totalResults totalPages } }
      fragment C on Customer { id customerId name email @include(if: $withEmail) status createdAt }`,
      variables: { withEmail: true },
    });
    expect(answer.errors).toBeUndefined();
    const node = (answer.data!.t as { edges: { node: { id: string } }[] }).edges[0].node;
    await expectSameAnswer({ query: `query($id: ID!) { node(id: $id) { __typename id ... on Ticket { subject customer { customerId } } } }`, variables: { id: node.id } });
  });

  it('introspection', async () => {
    await expectSameAnswer({ query: getIntrospectionQuery() });
  });

  it('errors: bad variables, a missing variable with a default, null into a required argument, resolver and validation errors', async () => {
    // Variables graphql-js refuses: answered by graphql-js itself (400, its wording).
    const bad = await expectSameAnswer({ query: 'query($n: Int!) { customer(customerId: $n) { name } }', variables: { n: 'three' } });
    expect(bad.errors![0].extensions?.code).toBe('BAD_USER_INPUT');
    await expectSameAnswer({ query: 'query($from: DateTime) { tickets(first: 1, filter: { createdAfter: $from }) { totalCount } }', variables: { from: 'yesterday' } });
    await expectSameAnswer({ query: 'query($s: TicketStatus) { tickets(first: 1, filter: { status: $s }) { totalCount } }', variables: { s: 'LOST' } });
    await expectSameAnswer({ query: 'query($n: Int!) { customer(customerId: $n) { name } }' });
    // A non-null variable with a default, left out: the default applies.
    const defaulted = await expectSameAnswer({ query: 'query($n: Int! = 2) { customer(customerId: $n) { customerId } }' });
    expect(defaulted.data).toEqual({ customer: { customerId: 2 } });
    // null through a nullable variable into a required argument: the client's mistake, at the argument.
    const nulled = await expectSameAnswer({ query: 'query($n: Int = 1) { customer(customerId: $n) { name } metricNames }', variables: { n: null } });
    expect(nulled.errors![0].extensions?.code).toBe('BAD_USER_INPUT');
    // Arguments the resolvers refuse (zod), with their argument named.
    const refused = await expectSameAnswer({ query: '{ a: tickets(first: -1) { totalCount } c: metricNames }' });
    expect(refused.errors!.map((e) => e.extensions?.argument)).toEqual(['first']);
    const period = await expectSameAnswer({ query: '{ metrics(filter: { metric: "revenue", from: "2026-11-20", to: "2026-11-01" }) { totalCount } }' });
    expect(period.errors!.map((e) => e.extensions?.argument)).toEqual(['from']);
    await expectSameAnswer({ query: '{ node(id: "not-an-id") { id } }' });
    await expectSameAnswer({ query: '{ customer(customerId: 999999) { name tickets(first: 1) { totalCount } } }' });
    // Refused before execution: the same either way.
    await expectSameAnswer({ query: '{ customers(first: 1) { nope } }' });
  });
});

describe('when a query is compiled', () => {
  it('from its second run, once; never a mutation; each operation of a document by its name', async () => {
    const query = 'query Twice { metricNames }';
    await post(byDefault, { query });
    expect(compilations.filter((c) => c.operationName === 'Twice')).toEqual([]);
    await post(byDefault, { query });
    await post(byDefault, { query });
    expect(compilations.filter((c) => c.operationName === 'Twice')).toEqual([{ operationName: 'Twice', compiled: true }]);

    const two = 'query One { metricNames } query Two { __typename }';
    for (let run = 0; run < 2; run++) {
      expect((await post(byDefault, { query: two, operationName: 'One' })).status).toBe(200);
      expect((await post(byDefault, { query: two, operationName: 'Two' })).status).toBe(200);
    }
    expect(compilations.filter((c) => c.operationName === 'One' || c.operationName === 'Two').map((c) => c.operationName)).toEqual(['One', 'Two']);

    const mutation = 'mutation Turn { voiceTurn(input: { text: "hello" }) { id } }';
    for (let run = 0; run < 3; run++) await post(byDefault, { query: mutation });
    expect(compilations.some((c) => c.operationName === 'Turn')).toBe(false);
  });

  it('after COMPILE_QUERIES_AFTER runs (default 2); 0 turns compiling off; a bad value names the variable', () => {
    expect(compiledQueriesAfter(loadConfig({}).COMPILE_QUERIES_AFTER)).toEqual({ after: 2 });
    expect(compiledQueriesAfter(loadConfig({ COMPILE_QUERIES_AFTER: '5' }).COMPILE_QUERIES_AFTER)).toEqual({ after: 5 });
    expect(compiledQueriesAfter(loadConfig({ COMPILE_QUERIES_AFTER: '0' }).COMPILE_QUERIES_AFTER)).toBe(false);
    expect(() => loadConfig({ COMPILE_QUERIES_AFTER: '-1' })).toThrowError(/COMPILE_QUERIES_AFTER/);
  });
});
