// Request limits through the real server: depth, aliases, tokens, directives and cost refused with a code over HTTP
// and graphql-ws; introspection and suggestions off; GraphiQL off; CORS from an allow-list (also through the response
// cache); an oversized body refused with 413 on every path while it streams in, without the server keeping it.
import { request } from 'node:http';
import { getIntrospectionQuery } from 'graphql';
import { type Client, createClient } from 'graphql-ws';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { loadConfig } from '../src/config';
import { type ResponseCache, createResponseCache } from '../src/server/cache';
import { DEFAULT_LIMITS } from '../src/server/limits';
import { databaseKind } from './helpers/database';
import { type GraphQLResponse, type TestServer, startTestServer } from './helpers/server';

const CODE = 'GRAPHQL_VALIDATION_FAILED';
const BODY_LIMIT = 256 * 1024;
const APP = 'https://app.example';
const ADMIN = 'https://admin.example';
const EVIL = 'https://evil.example';

/** Default limits, introspection and GraphiQL on, one allowed origin, no response cache. */
let open: TestServer;
/** Introspection and GraphiQL off, two allowed origins, the response cache on. */
let locked: TestServer;
let cache: ResponseCache;

beforeAll(async () => {
  open = await startTestServer({
    data: { customers: 10, tickets: 30, days: 10, seed: 4, anchorDate: '2026-11-24' },
    http: { limits: { maxRequestBodyBytes: BODY_LIMIT }, corsOrigins: [APP] },
  });
  cache = createResponseCache({ database: open.database, ttlMs: 60_000 });
  locked = await startTestServer({
    database: open.database,
    http: { limits: { maxRequestBodyBytes: BODY_LIMIT, introspection: false }, graphiql: false, corsOrigins: [APP, ADMIN], responseCache: cache },
  });
});
afterAll(async () => {
  await locked?.stop();
  await open?.stop();
});

/** A query `levels` fields deep: customer → tickets → nodes → customer → … → __typename. */
function nested(levels: number): string {
  const cycle = ['tickets(first: 1)', 'nodes', 'customer'];
  const fields = ['customer(customerId: 1)'];
  while (fields.length < levels - 1) fields.push(cycle[(fields.length - 1) % 3]);
  return `{ ${fields.reduceRight((inner, field) => `${field} { ${inner} }`, '__typename')} }`;
}

function expectRefused(response: GraphQLResponse, message: RegExp, code = CODE) {
  expect(response.status).toBeGreaterThanOrEqual(200);
  expect(response.status).toBeLessThan(500);
  expect(response.data ?? null).toBeNull();
  expect(response.errors?.length).toBeGreaterThan(0);
  expect(response.errors!.some((e) => message.test(e.message))).toBe(true);
  for (const error of response.errors!) expect(error.extensions?.code).toBe(code);
}

describe(`query limits over HTTP (${databaseKind})`, () => {
  it('lets the depth limit through and refuses one level more, on the direct path and on yoga’s (GET)', async () => {
    const atLimit = await open.query(nested(DEFAULT_LIMITS.maxDepth));
    expect(atLimit.errors).toBeUndefined();
    expect(atLimit.data.customer.tickets.nodes).toBeDefined();
    const direct = open.app.direct!.stats().direct;
    expectRefused(await open.query(nested(DEFAULT_LIMITS.maxDepth + 1)), /depth limit of 12 exceeded, found 13/);
    expect(open.app.direct!.stats().direct).toBe(direct + 1);
    // Asked again: yoga's validation cache must not lose the code.
    expectRefused(await open.query(nested(DEFAULT_LIMITS.maxDepth + 1)), /depth limit/);
    const viaGet = await fetch(`${open.url}?query=${encodeURIComponent(nested(13))}`, { headers: { accept: 'application/json' } });
    expectRefused({ ...((await viaGet.json()) as GraphQLResponse), status: viaGet.status }, /depth limit/);
  });

  it('refuses a query nested ten relations deep (customer → tickets → customer …)', async () => {
    let selection = 'name';
    for (let i = 0; i < 10; i++) selection = i % 2 ? `tickets(first: 1) { nodes { ${selection} } }` : `customer { ${selection} }`;
    expectRefused(await open.query(`{ customer(customerId: 1) { ${selection} } }`), /depth limit of 12 exceeded/);
  });

  it('refuses 200 aliases', async () => {
    const aliases = Array.from({ length: 200 }, (_, i) => `a${i}: metricNames`).join(' ');
    expectRefused(await open.query(`{ ${aliases} }`), /Aliases limit of 30 exceeded, found 200/);
    const fine = await open.query(`{ ${Array.from({ length: 30 }, (_, i) => `a${i}: __typename`).join(' ')} }`);
    expect(fine.errors).toBeUndefined();
  });

  it('refuses a query of more tokens than the limit while parsing it', async () => {
    const query = `{ ${'metricNames '.repeat(DEFAULT_LIMITS.maxTokens + 10)}}`;
    expectRefused(await open.query(query), /Token limit of 2000 exceeded/);
  });

  it('refuses more directives than the limit', async () => {
    const query = `{ ${'metricNames @include(if: true) '.repeat(25)}}`;
    expectRefused(await open.query(query), /Directives limit of 20 exceeded, found 25/);
  });

  it('refuses a query whose nested pages multiply past the cost limit, though it is shallow enough', async () => {
    const query = '{ customers(first: 100) { nodes { tickets(first: 100) { nodes { customer { tickets(first: 100) { nodes { ticketId } } } } } } } }';
    expectRefused(await open.query(query), /Cost limit of 200000 exceeded/);
    // The product's own queries stay far below: GraphiQL's example and a page of customers with their tickets.
    const normal = await open.query('{ customers(first: 100) { totalCount nodes { name tickets(first: 10) { totalCount nodes { subject customer { name } } } } } }');
    expect(normal.errors).toBeUndefined();
  });

  it('lets GraphiQL’s full introspection query through while introspection is on', async () => {
    const r = await open.query(getIntrospectionQuery({ descriptions: true, specifiedByUrl: true, directiveIsRepeatable: true, inputValueDeprecation: true }));
    expect(r.errors).toBeUndefined();
    expect(r.data.__schema.queryType.name).toBe('Query');
  });
});

describe('query limits over graphql-ws', () => {
  let clients: Client[] = [];
  afterEach(async () => {
    await Promise.all(clients.map((c) => c.dispose()));
    clients = [];
  });

  /** The first thing the server sends for `query`: its errors (graphql-ws's `error` message) or its first result. */
  function first(query: string): Promise<{ errors?: { message: string; extensions?: Record<string, unknown> }[]; data?: unknown }> {
    const client = createClient({ url: open.wsUrl, webSocketImpl: WebSocket, retryAttempts: 0, lazy: true });
    clients.push(client);
    return new Promise((resolve, reject) => {
      client.subscribe(
        { query },
        {
          next: (result) => resolve(result as never),
          error: (error) => (Array.isArray(error) ? resolve({ errors: error }) : reject(error)),
          complete: () => undefined,
        },
      );
    });
  }

  it('refuses a too-deep subscription with a code and keeps the socket for the next operation', async () => {
    // Inline fragments count as levels, so the depth of a subscription cannot hide in them.
    let selection = 'seq';
    for (let i = 0; i < 13; i++) selection = `... on TurnCompletedEvent { ${selection} }`;
    const refused = await first(`subscription { voiceEvents(sessionId: "deep") { ${selection} } }`);
    expect(refused.errors?.[0].message).toMatch(/depth limit of 12 exceeded/);
    expect(refused.errors?.[0].extensions?.code).toBe(CODE);
  });

  it('refuses a too-deep query, too many aliases and too many tokens with a code', async () => {
    const deep = await first(nested(13));
    expect(deep.errors?.[0]).toMatchObject({ message: expect.stringMatching(/depth limit/), extensions: { code: CODE } });
    const aliases = await first(`{ ${Array.from({ length: 200 }, (_, i) => `a${i}: metricNames`).join(' ')} }`);
    expect(aliases.errors?.[0]).toMatchObject({ message: expect.stringMatching(/Aliases limit/), extensions: { code: CODE } });
    const tokens = await first(`{ ${'metricNames '.repeat(2100)}}`);
    expect(tokens.errors?.[0]).toMatchObject({ message: expect.stringMatching(/Token limit/), extensions: { code: CODE } });
    const fine = await first('{ metricNames }');
    expect(fine.errors).toBeUndefined();
  });

  it('closes a socket whose message is larger than the body limit (1009, ws reads no more of it)', async () => {
    const client = createClient({ url: open.wsUrl, webSocketImpl: WebSocket, retryAttempts: 0, lazy: true });
    clients.push(client);
    const closed = new Promise<number>((resolve) => client.on('closed', (event) => resolve((event as { code: number }).code)));
    const failed = new Promise<unknown>((resolve) =>
      client.subscribe({ query: '{ metricNames }', variables: { padding: 'x'.repeat(2 * BODY_LIMIT) } }, { next: () => undefined, error: resolve, complete: () => undefined }),
    );
    expect(await closed).toBe(1009);
    await failed;
  });
});

describe('introspection and GraphiQL off', () => {
  it('refuses __schema and __type with a code, and still answers __typename', async () => {
    expectRefused(await locked.query('{ __schema { types { name } } }'), /introspection has been disabled/);
    expectRefused(await locked.query('{ __type(name: "Customer") { fields { name } } }'), /introspection has been disabled/);
    expectRefused(await locked.query(getIntrospectionQuery()), /introspection has been disabled/);
    expect((await locked.query('{ __typename }')).data).toEqual({ __typename: 'Query' });
    // The open server answers the same query.
    expect((await open.query('{ __type(name: "Customer") { name } }')).data).toEqual({ __type: { name: 'Customer' } });
  });

  it('hides "Did you mean" suggestions of fields, arguments, enum values and variables', async () => {
    const typos = [
      ['{ customer(customerId: 1) { nam } }', undefined, /Cannot query field "nam"/],
      ['{ tickets(frist: 1) { totalCount } }', undefined, /Unknown argument "frist"/],
      ['{ tickets(filter: { status: OPN }) { totalCount } }', undefined, /Value "OPN" does not exist/],
      ['query($f: TicketFilter) { tickets(filter: $f) { totalCount } }', { f: { statu: 'CLOSED' } }, /Field "statu" is not defined/],
      ['query($f: TicketFilter) { tickets(filter: $f) { totalCount } }', { f: { status: 'OPN' } }, /Value "OPN" does not exist/],
    ] as const;
    for (const [query, variables, message] of typos) {
      const hidden = await locked.query(query, variables);
      expect(hidden.status).toBeLessThan(500);
      expect(hidden.errors?.[0].message).toMatch(message);
      const messages = hidden.errors!.map((e) => e.message).join('\n');
      expect(messages).not.toMatch(/Did you mean|"name"|"first"|"OPEN"|"status"/);
      // With introspection on, the suggestion is there (the test would see a leak), with the same code.
      const shown = await open.query(query, variables);
      expect(shown.errors?.[0].message).toMatch(/Did you mean/);
      expect(hidden.errors?.[0].extensions?.code).toBeTruthy();
      expect(hidden.errors?.[0].extensions?.code).toBe(shown.errors?.[0].extensions?.code);
      expect(hidden.status).toBe(shown.status);
    }
  });

  it('does not serve GraphiQL', async () => {
    const page = await fetch(locked.url, { headers: { accept: 'text/html' } });
    const text = await page.text();
    expect(page.headers.get('content-type') ?? '').not.toMatch(/text\/html/);
    expect(text).not.toMatch(/graphiql|<html/i);
    const served = await fetch(open.url, { headers: { accept: 'text/html' } });
    expect(served.status).toBe(200);
    expect(await served.text()).toMatch(/GraphiQL/);
  });
});

describe('CORS from an allow-list', () => {
  const ask = (server: TestServer, origin: string, init: { method?: string; query?: string } = {}) =>
    fetch(init.method === 'GET' ? `${server.url}?query=${encodeURIComponent(init.query ?? '{ metricNames }')}` : server.url, {
      method: init.method ?? 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json', origin },
      body: init.method === 'GET' ? undefined : JSON.stringify({ query: init.query ?? '{ metricNames }' }),
    });
  const cors = (response: Response) => ({
    origin: response.headers.get('access-control-allow-origin'),
    credentials: response.headers.get('access-control-allow-credentials'),
  });

  it('answers an allowed origin with credentials and a foreign one with neither, on the direct path and on yoga’s', async () => {
    for (const method of ['POST', 'GET']) {
      const allowed = await ask(open, APP, { method });
      expect(allowed.status).toBe(200);
      expect(cors(allowed)).toEqual({ origin: APP, credentials: 'true' });
      // The page may read the request id (to quote in a report) and when to retry.
      expect(allowed.headers.get('access-control-expose-headers')?.toLowerCase().split(/,\s*/)).toEqual(['x-request-id', 'retry-after']);
      expect(allowed.headers.get('x-request-id')).toBeTruthy();
      const foreign = await ask(open, EVIL, { method });
      expect(cors(foreign)).toEqual({ origin: null, credentials: null });
    }
    const direct = open.app.direct!.stats().direct;
    await ask(open, EVIL);
    expect(open.app.direct!.stats().direct).toBe(direct + 1);
  });

  it('answers a preflight from a foreign origin without CORS headers', async () => {
    const preflight = (origin: string) =>
      fetch(open.url, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,authorization' } });
    const allowed = await preflight(APP);
    expect(cors(allowed)).toEqual({ origin: APP, credentials: 'true' });
    expect(allowed.headers.get('access-control-allow-methods')).toBe('POST');
    const foreign = await preflight(EVIL);
    expect(cors(foreign)).toEqual({ origin: null, credentials: null });
    expect(foreign.headers.get('access-control-allow-methods')).toBeNull();
  });

  it('keeps each origin’s own CORS headers through the response cache', async () => {
    const query = '{ metricNames }';
    const hits = cache.stats().hits;
    const app1 = await ask(locked, APP, { query });
    const evil1 = await ask(locked, EVIL, { query });
    const admin1 = await ask(locked, ADMIN, { query });
    const [app2, evil2, admin2] = [await ask(locked, APP, { query }), await ask(locked, EVIL, { query }), await ask(locked, ADMIN, { query })];
    expect(cache.stats().hits).toBe(hits + 3);
    for (const response of [app1, app2]) expect(cors(response)).toEqual({ origin: APP, credentials: 'true' });
    for (const response of [admin1, admin2]) expect(cors(response)).toEqual({ origin: ADMIN, credentials: 'true' });
    for (const response of [evil1, evil2]) expect(cors(response)).toEqual({ origin: null, credentials: null });
  });
});

describe('request body limit', () => {
  /**
   * POSTs a chunked body (no content-length) of `total` bytes, generated as it is sent, and stops sending when the
   * answer arrives. The body is valid JSON if it is ever read to the end.
   */
  function streamBody(url: string, total: number, origin?: string): Promise<{ status: number; headers: Record<string, unknown>; body: string; sent: number }> {
    return new Promise((resolve, reject) => {
      const chunk = Buffer.alloc(64 * 1024, 'x');
      let sent = 0;
      let answered = false;
      const req = request(url, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json', ...(origin && { origin }) } }, (res) => {
        answered = true;
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (part) => (body += part));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body, sent }));
        res.on('error', reject);
      });
      expect(req.getHeader('content-length')).toBeUndefined();
      // Once answered, a write may fail (the server closed the connection): that is the refusal, not an error.
      req.on('error', (error) => (answered ? undefined : reject(error)));
      const pump = () => {
        while (!answered && sent < total) {
          sent += chunk.length;
          if (!req.write(chunk)) return void req.once('drain', pump);
        }
        if (!answered) req.end('"}}');
      };
      req.write('{"query":"{ metricNames }","variables":{"padding":"');
      pump();
    });
  }

  /** Streams 200 MiB to `server` and expects a 413 with a code, and the process to have grown by a few MiB at most. */
  async function expectStreamRefused(server: TestServer) {
    await streamBody(server.url, 4 * BODY_LIMIT);
    const before = process.memoryUsage().rss;
    const refused = await streamBody(server.url, 200 * 1024 * 1024, APP);
    const grown = process.memoryUsage().rss - before;
    expect(refused.status).toBe(413);
    expect(JSON.parse(refused.body).errors[0].extensions.code).toBe('REQUEST_ENTITY_TOO_LARGE');
    expect(refused.headers['access-control-allow-origin']).toBe(APP);
    expect(grown).toBeLessThan(32 * 1024 * 1024);
    // The client stopped sending when the answer came: long before 200 MiB.
    expect(refused.sent).toBeLessThan(100 * 1024 * 1024);
    // The server answers the next request as usual.
    expect((await server.query('{ metricNames }')).data.metricNames.length).toBeGreaterThan(0);
  }

  it('refuses a 200 MiB streamed body on yoga’s path (no cache) while it streams in', async () => {
    await expectStreamRefused(open);
  });

  it('refuses a 200 MiB streamed body on the response cache’s path while it streams in', async () => {
    const misses = cache.stats().misses;
    await expectStreamRefused(locked);
    expect(cache.stats().misses).toBe(misses + 1);
  });

  it('refuses a declared oversized body on the direct path and the cache’s path before reading it', async () => {
    const body = JSON.stringify({ query: '{ metricNames }', variables: { padding: 'x'.repeat(BODY_LIMIT) } });
    const accepts = vi.spyOn(open.app.direct!, 'accepts');
    for (const server of [open, locked]) {
      const response = await fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json' }, body });
      expect(response.status).toBe(413);
      expect(((await response.json()) as GraphQLResponse).errors?.[0].extensions?.code).toBe('REQUEST_ENTITY_TOO_LARGE');
    }
    expect(accepts).toHaveReturnedWith(true);
    accepts.mockRestore();
    // Just under the limit is answered.
    const fits = JSON.stringify({ query: '{ metricNames }', variables: { padding: 'x'.repeat(BODY_LIMIT - 100) } });
    const ok = await fetch(open.url, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json' }, body: fits });
    expect(ok.status).toBe(200);
  });
});

describe('configuration', () => {
  it('has the documented defaults and reads the limits, switches and origins', () => {
    const defaults = loadConfig({});
    expect(defaults).toMatchObject({
      LIMIT_MAX_DEPTH: DEFAULT_LIMITS.maxDepth,
      LIMIT_MAX_ALIASES: DEFAULT_LIMITS.maxAliases,
      LIMIT_MAX_TOKENS: DEFAULT_LIMITS.maxTokens,
      LIMIT_MAX_DIRECTIVES: DEFAULT_LIMITS.maxDirectives,
      LIMIT_MAX_COST: DEFAULT_LIMITS.maxCost,
      MAX_REQUEST_BODY_BYTES: 36 * 1024 * 1024,
      GRAPHIQL: true,
      INTROSPECTION: true,
      CORS_ORIGINS: [],
    });
    const set = loadConfig({ LIMIT_MAX_DEPTH: '8', GRAPHIQL: 'false', INTROSPECTION: 'false', CORS_ORIGINS: ' https://a.example, http://localhost:5173 ,*' });
    expect(set).toMatchObject({ LIMIT_MAX_DEPTH: 8, GRAPHIQL: false, INTROSPECTION: false, CORS_ORIGINS: ['https://a.example', 'http://localhost:5173', '*'] });
    expect(() => loadConfig({ CORS_ORIGINS: 'https://a.example/' })).toThrow(/CORS_ORIGINS/);
    expect(() => loadConfig({ GRAPHIQL: 'yes' })).toThrow(/GRAPHIQL/);
  });
});
