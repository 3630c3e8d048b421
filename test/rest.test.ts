// The REST view (SOFA under /rest) through the front door: curl-like requests for lists with filters and for one record,
// argument errors as 400 with the argument's message, 401 without a token, tenant isolation, roles, the OpenAPI
// document and Swagger UI served from the server (over HTTP, and in Chromium with no internet).
import { buildOperationNodeForField } from '@graphql-tools/utils';
import { OperationTypeNode, print } from 'graphql';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importDirectory } from '../src/db/import';
import { createSchema } from '../src/schema';
import { createAuthenticator } from '../src/server/auth';
import { type TestBrowser, chromiumPresent, chromiumSkipNote, launchBrowser, screenshotPath } from './helpers/browser';
import { type TestDatabase, createTestDatabase } from './helpers/database';
import { type TestServer, generatedDataDir, startTestServer } from './helpers/server';
import { type Dataset, readDataset } from './helpers/truth';

const SECRET = 'a-test-secret-of-at-least-thirty-two-characters';
const tokenFor = (tenant: string, roles: string[]) =>
  new SignJWT({ tenant, roles }).setProtectedHeader({ alg: 'HS256' }).setSubject('alice').setIssuedAt().setExpirationTime('1h').sign(new TextEncoder().encode(SECRET));

let database: TestDatabase;
let server: TestServer;
let acme: Dataset;
let globex: Dataset;
const tokens: Record<string, string> = {};

/** A curl: GET (or POST with a JSON body) of a path under the server, with a bearer token when given. */
async function curl(path: string, token?: string, init: { method?: string; body?: unknown } = {}) {
  const response = await fetch(`${server.baseUrl}${path}`, {
    method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
    headers: { accept: 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}), ...(init.body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, text, body: text ? JSON.parse(text) : undefined };
}

beforeAll(async () => {
  database = await createTestDatabase();
  // Two tenants whose customer and ticket numbers overlap (both start at 1) but whose data differ.
  const acmeDir = await generatedDataDir({ customers: 30, tickets: 80, days: 10, seed: 11 });
  const globexDir = await generatedDataDir({ customers: 7, tickets: 9, days: 10, seed: 22 });
  await importDirectory(database, acmeDir, { tenantId: 'acme' });
  await importDirectory(database, globexDir, { tenantId: 'globex' });
  acme = readDataset(acmeDir);
  globex = readDataset(globexDir);
  tokens.acme = await tokenFor('acme', ['viewer', 'voice']);
  tokens.globex = await tokenFor('globex', ['viewer']);
  tokens.noRole = await tokenFor('acme', ['admin']);
  server = await startTestServer({ database, auth: createAuthenticator({ secret: SECRET, defaultTenant: 'default' }) });
});
afterAll(async () => {
  await server?.stop();
  await database?.close();
});

describe('REST routes, as curl sees them', () => {
  it('lists with a filter: the whole filtered count, a page of records, and what a voice would say', async () => {
    const r = await curl('/rest/customers?filter[status]=ACTIVE&first=5&orderBy=NAME_ASC', tokens.acme);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^application\/json/);
    const active = acme.customers.filter((c) => c.status === 'active');
    expect(r.body.totalCount).toBe(active.length);
    expect(r.body.nodes).toHaveLength(5);
    expect(r.body.nodes.map((c: { name: string }) => c.name)).toEqual(
      active
        .map((c) => c.name)
        .sort((a, b) => a.localeCompare(b, 'en'))
        .slice(0, 5),
    );
    expect(r.body.nodes.every((c: { status: string }) => c.status === 'ACTIVE')).toBe(true);
    expect(r.body.voiceSummary).toMatch(new RegExp(`\\b${active.length}\\b`));
    expect(r.body.pageInfo.hasNextPage).toBe(true);

    // Two filters at once, and the same filter as JSON.
    const openHigh = acme.tickets.filter((t) => t.status === 'open' && t.priority === 'high').length;
    const tickets = await curl('/rest/tickets?filter[status]=OPEN&filter[priority]=HIGH&first=3', tokens.acme);
    expect(tickets.status).toBe(200);
    expect(tickets.body.totalCount).toBe(openHigh);
    expect(tickets.body.nodes.every((t: { status: string; priority: string }) => t.status === 'OPEN' && t.priority === 'HIGH')).toBe(true);
    const json = await curl(`/rest/tickets?filter=${encodeURIComponent(JSON.stringify({ status: 'OPEN', priority: 'HIGH' }))}`, tokens.acme);
    expect(json.body.totalCount).toBe(openHigh);

    // Cursor paging carries on where the page ended.
    const next = await curl(`/rest/customers?filter[status]=ACTIVE&first=5&orderBy=NAME_ASC&after=${encodeURIComponent(r.body.pageInfo.endCursor)}`, tokens.acme);
    expect(next.body.nodes[0].name).toBe(active.map((c) => c.name).sort((a, b) => a.localeCompare(b, 'en'))[5]);
  });

  it('answers one record by its number, and 404 when there is none', async () => {
    const seed = acme.customers.find((c) => c.customer_id === 3)!;
    const r = await curl('/rest/customers/3', tokens.acme);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ customerId: 3, name: seed.name, email: seed.email, status: seed.status.toUpperCase() });
    expect(r.body.tickets.totalCount).toBe(acme.tickets.filter((t) => t.customer_id === 3).length);

    const ticket = acme.tickets[0];
    const t = await curl(`/rest/tickets/${ticket.ticket_id}`, tokens.acme);
    expect(t.body).toMatchObject({ ticketId: ticket.ticket_id, subject: ticket.subject, customerId: ticket.customer_id });

    const missing = await curl('/rest/customers/99999', tokens.acme);
    expect(missing.status).toBe(404);
    expect(missing.body.errors[0].extensions.code).toBe('NOT_FOUND');
    const noRoute = await curl('/rest/nothing-here', tokens.acme);
    expect(noRoute.status).toBe(404);
    expect(noRoute.body.errors[0].message).toMatch(/openapi\.json/);
  });

  it('metrics: a summary over the last days and the names', async () => {
    const names = await curl('/rest/metrics/names', tokens.acme);
    expect(names.body).toEqual([...new Set(acme.metrics.map((m) => m.metric))].sort());
    const summary = await curl('/rest/metrics/summary?metric=revenue&lastDays=7', tokens.acme);
    expect(summary.status).toBe(200);
    expect(summary.body.metric).toBe('revenue');
    expect(summary.body.voiceSummary).toMatch(/^Revenue/);
  });

  it('refuses bad arguments with 400 and a message naming the argument: no 500, no stack trace', async () => {
    const cases: [string, RegExp][] = [
      ['/rest/tickets?first=500', /first: must be between 1 and 100/],
      ['/rest/tickets?filter[status]=BOGUS', /"BOGUS" does not exist in "TicketStatus"/],
      ['/rest/tickets?filter=not-json', /JSON/],
      ['/rest/customers/abc', /Int cannot represent non-integer value: "abc"/],
      ['/rest/customers?first=5&page=2&after=abc', /after|page/],
      [`/rest/customers?filter[search]=${'x'.repeat(201)}`, /search/],
    ];
    for (const [path, message] of cases) {
      const r = await curl(path, tokens.acme);
      expect(r.status, path).toBe(400);
      expect(r.body.errors[0].extensions.code, path).toBe('BAD_USER_INPUT');
      expect(r.body.errors[0].message, path).toMatch(message);
      expect(r.text, path).not.toMatch(/\n\s+at |node_modules|\.ts:\d+/);
    }
  });

  it('runs the same roles check as GraphQL: no role, 403; a viewer may not start a voice turn', async () => {
    const none = await curl('/rest/customers', tokens.noRole);
    expect(none.status).toBe(403);
    expect(none.body.errors[0].extensions.code).toBe('FORBIDDEN');
    const viewer = await curl('/rest/voice/turns', tokens.globex, { body: { input: { text: 'How many open tickets?' } } });
    expect(viewer.status).toBe(403);
    expect(viewer.body.errors[0].extensions.code).toBe('FORBIDDEN');
  });

  it('has no webhook routes (SOFA would POST subscription events to any URL a caller names)', async () => {
    for (const path of ['/rest/webhook', '/rest/webhook/1']) {
      const r = await curl(path, tokens.acme, { body: { subscription: 'voiceEvents', url: 'http://127.0.0.1:9/x' } });
      expect(r.status, path).toBe(404);
    }
  });
});

describe('REST authentication and tenants', () => {
  it('answers 401 without a token (or with a bad one) on every route, before anything runs', async () => {
    for (const [path, init] of [
      ['/rest/customers', {}],
      ['/rest/customers/1', {}],
      ['/rest/tickets?filter[status]=OPEN', {}],
      ['/rest/metrics/names', {}],
      ['/rest/voice/turns', { body: { input: { text: 'hello' } } }],
      ['/rest/nothing-here', {}],
    ] as const) {
      const r = await curl(path, undefined, init);
      expect(r.status, path).toBe(401);
      expect(r.headers.get('www-authenticate'), path).toMatch(/^Bearer/);
      expect(r.body.errors[0].extensions.code, path).toBe('UNAUTHENTICATED');
      expect((await curl(path, 'not.a.token', init)).status, path).toBe(401);
    }
    // A browser asking for HTML gets the same 401: only /graphql answers HTML without a token (GraphiQL's page).
    const browser = await fetch(`${server.baseUrl}/rest/customers`, { headers: { accept: 'text/html' } });
    expect(browser.status).toBe(401);
  });

  it('keeps tenants apart: the same routes and numbers give each token its own tenant’s data', async () => {
    const a = await curl('/rest/customers?first=1', tokens.acme);
    const g = await curl('/rest/customers?first=1', tokens.globex);
    expect(a.body.totalCount).toBe(acme.customers.length);
    expect(g.body.totalCount).toBe(globex.customers.length);
    // Customer 1 exists in both, with different names.
    const a1 = await curl('/rest/customers/1', tokens.acme);
    const g1 = await curl('/rest/customers/1', tokens.globex);
    expect(a1.body.name).toBe(acme.customers.find((c) => c.customer_id === 1)!.name);
    expect(g1.body.name).toBe(globex.customers.find((c) => c.customer_id === 1)!.name);
    expect(g1.body.name).not.toBe(a1.body.name);
    // A number only acme has is not there for globex, nor are acme's tickets.
    const onlyAcme = Math.max(...acme.customers.map((c) => c.customer_id));
    expect(onlyAcme).toBeGreaterThan(Math.max(...globex.customers.map((c) => c.customer_id)));
    expect((await curl(`/rest/customers/${onlyAcme}`, tokens.acme)).status).toBe(200);
    expect((await curl(`/rest/customers/${onlyAcme}`, tokens.globex)).status).toBe(404);
    expect((await curl('/rest/tickets?first=1', tokens.globex)).body.totalCount).toBe(globex.tickets.length);
    // A global id of acme's customer, asked for by globex.
    expect((await curl(`/rest/nodes/${encodeURIComponent(a1.body.id)}`, tokens.acme)).body.name).toBe(a1.body.name);
    expect((await curl(`/rest/nodes/${encodeURIComponent(a1.body.id)}`, tokens.globex)).body?.name).not.toBe(a1.body.name);
  });
});

describe('the REST documents stay within the GraphQL limits', () => {
  it('every route’s document (as SOFA builds it) passes the depth, alias, token and cost limits of /graphql', async () => {
    const schema = createSchema();
    for (const kind of [OperationTypeNode.QUERY, OperationTypeNode.MUTATION]) {
      const type = kind === OperationTypeNode.QUERY ? schema.getQueryType()! : schema.getMutationType()!;
      for (const field of Object.keys(type.getFields())) {
        const document = print(buildOperationNodeForField({ kind, schema, field, models: [], ignore: [], circularReferenceDepth: 1 }));
        const r = await server.query(document, {}, { authorization: `Bearer ${tokens.acme}` });
        const limited = (r.errors ?? []).filter((e) => e.extensions?.code === 'GRAPHQL_VALIDATION_FAILED' && !/was not provided/.test(e.message));
        expect(limited, `${kind} ${field}`).toEqual([]);
      }
    }
  });
});

describe('OpenAPI document and Swagger UI over HTTP', () => {
  it('serves the OpenAPI document (no token needed: it holds no tenant data) listing the routes', async () => {
    const r = await fetch(`${server.baseUrl}/rest/openapi.json`);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^application\/json/);
    const doc = (await r.json()) as { openapi: string; servers: { url: string }[]; paths: Record<string, Record<string, { parameters?: { name: string; in: string }[] }>>; components: { securitySchemes: unknown }; security: unknown };
    expect(doc.openapi).toMatch(/^3\./);
    expect(doc.servers).toEqual([{ url: '/rest' }]);
    for (const path of ['/customers', '/customers/{customerId}', '/tickets', '/tickets/{ticketId}', '/metrics', '/metrics/summary', '/metrics/names', '/voice/turns']) {
      expect(Object.keys(doc.paths), path).toContain(path);
    }
    expect(Object.keys(doc.paths).some((p) => /webhook/.test(p))).toBe(false);
    expect(doc.paths['/customers'].get.parameters!.map((p) => p.name)).toEqual(expect.arrayContaining(['filter', 'orderBy', 'first', 'after', 'page']));
    // Input objects as filter[field]=value, as SOFA reads them (and Swagger UI then sends them).
    expect(doc.paths['/tickets'].get.parameters!.find((p) => p.name === 'filter')).toMatchObject({ in: 'query', style: 'deepObject', explode: true });
    expect(doc.paths['/customers/{customerId}'].get.parameters).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'customerId', in: 'path' })]));
    expect(doc.paths['/voice/turns']).toHaveProperty('post');
    expect(doc.components.securitySchemes).toEqual({ bearerAuth: { type: 'http', scheme: 'bearer' } });
    expect(doc.security).toEqual([{ bearerAuth: [] }]);
  });

  it('serves Swagger UI whose every file comes from this server', async () => {
    const page = await fetch(`${server.baseUrl}/rest/docs`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await page.text();
    expect(html).not.toMatch(/https?:\/\//);
    const files = [...html.matchAll(/(?:href|src)="([^"]+)"/g)].map((m) => m[1]);
    expect(files.length).toBe(3);
    for (const file of files) {
      expect(file, file).toMatch(/^\/rest\/docs\/assets\/[\d.]+\//);
      const r = await fetch(`${server.baseUrl}${file}`);
      expect(r.status, file).toBe(200);
      expect(r.headers.get('cache-control'), file).toBe('public, max-age=31536000, immutable');
      expect(r.headers.get('content-type'), file).toMatch(/^(text\/css|text\/javascript|image\/png)/);
    }
    expect((await fetch(`${server.baseUrl}/rest/docs/assets/0/swagger-ui-bundle.js`)).status).toBe(404);
    expect((await fetch(`${server.baseUrl}${files[0].replace(/[^/]+$/, '..%2F..%2Fpackage.json')}`)).status).toBe(404);
  });

  it('follows the server’s settings: no OpenAPI document with introspection off, no Swagger UI with GraphiQL off', async () => {
    const locked = await startTestServer({ database, http: { graphiql: false, limits: { introspection: false } } });
    try {
      expect((await fetch(`${locked.baseUrl}/rest/openapi.json`)).status).toBe(404);
      expect((await fetch(`${locked.baseUrl}/rest/docs`)).status).toBe(404);
      // The routes themselves still answer (here without auth: the default tenant, which has no data).
      const r = await fetch(`${locked.baseUrl}/rest/customers`);
      expect(r.status).toBe(200);
      expect(((await r.json()) as { totalCount: number }).totalCount).toBe(0);
    } finally {
      await locked.stop();
    }
  });
});

describe.skipIf(!chromiumPresent)(`Swagger UI in Chromium with no internet${chromiumSkipNote}`, () => {
  let browser: TestBrowser;
  beforeAll(async () => {
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('renders the routes from the OpenAPI document, asking nothing of a CDN', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.setViewportSize({ width: 1280, height: 1000 });
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(`${server.baseUrl}/rest/docs`);
    await page.waitForSelector('.opblock-summary-path', { timeout: 60_000 });
    const paths = await page.locator('.opblock-summary-path').allInnerTexts();
    expect(paths.map((p) => p.replace(/\u200b/g, ''))).toEqual(expect.arrayContaining(['/customers', '/customers/{customerId}', '/tickets']));

    // Authorize with a token, then "Try it out" on GET /tickets with a filter: the request goes through auth.
    await page.locator('.btn.authorize').first().click();
    await page.locator('.modal-ux input').first().fill(tokens.acme);
    await page.locator('.modal-ux .btn.authorize').click();
    await page.locator('.modal-ux .btn-done').click();
    const tickets = page.locator('.opblock', { has: page.locator('.opblock-summary-path', { hasText: /^\/tickets$/ }) });
    await tickets.locator('.opblock-summary-control').click();
    await tickets.locator('.try-out__btn').click();
    await tickets.locator('tr[data-param-name="filter"] textarea').fill(JSON.stringify({ status: 'OPEN', priority: 'HIGH' }));
    const sent = page.waitForRequest((r) => new URL(r.url()).pathname === '/rest/tickets');
    await tickets.locator('.btn.execute').click();
    const request = await sent;
    expect(decodeURIComponent(request.url())).toMatch(/filter\[status\]=OPEN&filter\[priority\]=HIGH/);
    expect(request.headers().authorization).toBe(`Bearer ${tokens.acme}`);
    const response = await request.response();
    expect(response!.status()).toBe(200);
    expect(((await response!.json()) as { totalCount: number }).totalCount).toBe(acme.tickets.filter((t) => t.status === 'open' && t.priority === 'high').length);
    await tickets.locator('.live-responses-table').waitFor();
    await page.screenshot({ path: screenshotPath('swagger.png'), fullPage: false });
    expect(browser.blocked).toEqual([]);
    expect(errors).toEqual([]);
    await context.close();
  }, 120_000);
});
