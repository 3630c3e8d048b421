// Observability through the front door: pino JSON logs (request and turn ids on every line, credentials redacted),
// x-request-id on every answer of /graphql whichever path writes it, and Prometheus /metrics (requests, errors by code,
// graphql-ws gauges, voice stage histograms), on the main port or only on METRICS_PORT.
import { createClient } from 'graphql-ws';
import { SignJWT } from 'jose';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createLogger } from '../src/logger';
import { createAuthenticator } from '../src/server/auth';
import { type ResponseCache, createResponseCache } from '../src/server/cache';
import { createMetrics } from '../src/server/metrics';
import { createTestDatabase, databaseKind } from './helpers/database';
import { type TestServer, startTestServer } from './helpers/server';
import { type VoiceServer, runTurn, startVoiceServer, subscribeEvents } from './helpers/voice';

const SECRET = 'a-test-secret-of-at-least-thirty-two-characters';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const token = (claims: Record<string, unknown>) =>
  new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setSubject('alice').setIssuedAt().setExpirationTime('1h').sign(new TextEncoder().encode(SECRET));

async function post(url: string, query: string, headers: Record<string, string>, variables?: Record<string, unknown>) {
  const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json', ...headers }, body: JSON.stringify({ query, variables }) });
  return { status: r.status, requestId: r.headers.get('x-request-id'), body: (await r.json()) as { data?: any; errors?: { extensions?: Record<string, unknown> }[] } };
}

/** The value of one sample of the exposition text, e.g. sample(text, 'graphql_errors_total', { code: 'BAD_USER_INPUT' }); null when absent. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | null {
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const has = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([k, v]) => has[k] === v)) return Number(match[3]);
  }
  return null;
}

const scrape = async (url: string) => {
  const r = await fetch(url);
  expect(r.status).toBe(200);
  expect(r.headers.get('content-type')).toMatch(/^text\/plain/);
  return r.text();
};

describe(`observability (${databaseKind})`, () => {
  const lines: string[] = [];
  let server: TestServer;
  let cached: TestServer;
  let cache: ResponseCache;
  let viewer: string;

  beforeAll(async () => {
    viewer = await token({ tenant: 'default', roles: ['viewer'] });
    const auth = createAuthenticator({ secret: SECRET, defaultTenant: 'default' });
    server = await startTestServer({ data: { customers: 6, tickets: 4, days: 3, seed: 5 }, auth, log: createLogger('debug', (line) => lines.push(line)) });
    cache = createResponseCache({ database: server.database, ttlMs: 60_000 });
    cached = await startTestServer({ database: server.database, auth, http: { responseCache: cache } });
  });
  afterAll(async () => {
    await cached?.stop();
    await server?.stop();
  });

  it('logs JSON lines with the request id and tenant, and never the authorization header, even when a request fails', async () => {
    lines.length = 0;
    const ok = await post(server.url, 'query CustomerCount { customers { totalCount } }', { authorization: `Bearer ${viewer}`, 'x-request-id': 'obs-log-1' });
    expect(ok.body.data.customers.totalCount).toBe(6);
    const bad = await post(server.url, 'query Bad($n: Int!) { customers(first: $n) { totalCount } }', { authorization: `Bearer ${viewer}`, 'x-request-id': 'obs-log-2' });
    expect(bad.body.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    const refused = await post(server.url, '{ customers { totalCount } }', { authorization: `Bearer ${viewer}x`, 'x-request-id': 'obs-log-3' });
    expect(refused.status).toBe(401);

    const parsed = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(parsed.every((l) => typeof l.time === 'string' && typeof l.level === 'string' && typeof l.msg === 'string')).toBe(true);
    expect(parsed).toContainEqual(expect.objectContaining({ level: 'debug', msg: 'graphql: executed', requestId: 'obs-log-1', tenant: 'default', operation: 'CustomerCount' }));
    expect(parsed).toContainEqual(expect.objectContaining({ requestId: 'obs-log-2', tenant: 'default', operation: 'Bad', errors: ['BAD_USER_INPUT'] }));
    expect(parsed).toContainEqual(expect.objectContaining({ level: 'warn', msg: 'request refused: not authenticated', requestId: 'obs-log-3' }));
    for (const line of lines) {
      expect(line).not.toContain(viewer);
      expect(line).not.toMatch(/bearer /i);
      expect(line).not.toMatch(/"authorization":"(?!\[redacted\])/);
    }
  });

  it('redacts authorization and audio fields wherever the logger is given them', () => {
    const out: string[] = [];
    const log = createLogger('info', (line) => out.push(line)).child({ requestId: 'r' });
    log.info('request', { authorization: 'Bearer secret-1', req: { headers: { authorization: 'Bearer secret-2', accept: '*/*' } }, input: { audio: 'UklGRg', text: 'hi' }, audio: 'UklGRg' });
    const line = JSON.parse(out[0]);
    expect(out.join('')).not.toMatch(/secret-|UklGRg/);
    expect(line).toMatchObject({ requestId: 'r', authorization: '[redacted]', req: { headers: { authorization: '[redacted]', accept: '*/*' } }, input: { audio: '[redacted]', text: 'hi' } });
    const silent: string[] = [];
    createLogger('silent', (l) => silent.push(l)).error('nothing');
    expect(silent).toEqual([]);
  });

  it("writes a child's bindings on its lines at the parent's levels, and a child's child's bindings too (children are made on first use)", () => {
    const out: string[] = [];
    const root = createLogger('info', (line) => out.push(line));
    const request = root.child({ requestId: 'r1', tenant: 't1' });
    const unused = root.child({ requestId: 'r2' });
    request.debug('below the level');
    expect(out).toEqual([]);
    request.info('first', { n: 1 });
    request.warn('second');
    const turn = request.child({ turnId: 'v1' });
    turn.error('third');
    turn.debug('below the level');
    root.info('from the root');
    expect(unused).toBeDefined();
    const lines = out.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines.map(({ time: _time, ...rest }) => rest)).toEqual([
      { level: 'info', requestId: 'r1', tenant: 't1', msg: 'first', n: 1 },
      { level: 'warn', requestId: 'r1', tenant: 't1', msg: 'second' },
      { level: 'error', requestId: 'r1', tenant: 't1', turnId: 'v1', msg: 'third' },
      { level: 'info', msg: 'from the root' },
    ]);
  });

  it('echoes x-request-id, given or generated, on direct, yoga-path, cache-hit and 401 answers', async () => {
    const auth = { authorization: `Bearer ${viewer}` };
    // Direct path (a plain JSON POST).
    const directBefore = server.app.direct!.stats().direct;
    expect((await post(server.url, '{ customers { totalCount } }', { ...auth, 'x-request-id': 'obs-direct-1' })).requestId).toBe('obs-direct-1');
    expect((await post(server.url, '{ customers { totalCount } }', auth)).requestId).toMatch(UUID);
    expect(server.app.direct!.stats().direct).toBe(directBefore + 2);
    // Not a valid id: replaced.
    expect((await post(server.url, '{ customers { totalCount } }', { ...auth, 'x-request-id': 'has spaces in it' })).requestId).toMatch(UUID);
    // Yoga's own path (a GET is never answered directly).
    const get = (headers: Record<string, string>) => fetch(`${server.url}?query=${encodeURIComponent('{ customers { totalCount } }')}`, { headers: { accept: 'application/json', ...headers } });
    const viaYoga = await get({ ...auth, 'x-request-id': 'obs-yoga-1' });
    expect(viaYoga.status).toBe(200);
    expect(viaYoga.headers.get('x-request-id')).toBe('obs-yoga-1');
    expect((await get(auth)).headers.get('x-request-id')).toMatch(UUID);
    expect(server.app.direct!.stats().direct).toBe(directBefore + 3);
    // Cache hit: the answer's body comes from memory, the id is this request's.
    const query = '{ tickets { totalCount } }';
    expect((await post(cached.url, query, { ...auth, 'x-request-id': 'obs-miss-1' })).requestId).toBe('obs-miss-1');
    const hitsBefore = cache.stats().hits;
    const hit = await post(cached.url, query, { ...auth, 'x-request-id': 'obs-hit-1' });
    expect(cache.stats().hits).toBe(hitsBefore + 1);
    expect(hit.requestId).toBe('obs-hit-1');
    expect(hit.body.data.tickets.totalCount).toBe(4);
    expect((await post(cached.url, query, auth)).requestId).toMatch(UUID);
    expect(cache.stats().hits).toBe(hitsBefore + 2);
    // Refused before any path: 401 written by the app.
    const refused = await post(server.url, query, { 'x-request-id': 'obs-401-1' });
    expect(refused.status).toBe(401);
    expect(refused.requestId).toBe('obs-401-1');
    expect((await post(server.url, query, {})).requestId).toMatch(UUID);
  });

  it('serves /metrics publicly on the main port: requests by operation and error code, durations, ws gauges, event-loop lag', async () => {
    const auth = { authorization: `Bearer ${viewer}` };
    await post(server.url, 'query MetricsOk { customers { totalCount } }', auth);
    await post(server.url, 'query MetricsOk { customers { totalCount } }', auth);
    await post(server.url, 'query MetricsBad($n: Int!) { customers(first: $n) { totalCount } }', auth);
    await post(server.url, 'query MetricsOk { customers { totalCount } }', {});
    let text = await scrape(`${server.baseUrl}/metrics`);
    expect(sample(text, 'graphql_operations_total', { operation: 'MetricsOk', type: 'query' })).toBe(2);
    expect(sample(text, 'graphql_operations_total', { operation: 'MetricsBad', type: 'query' })).toBe(1);
    expect(sample(text, 'graphql_errors_total', { operation: 'MetricsBad', code: 'BAD_USER_INPUT' })).toBe(1);
    expect(sample(text, 'graphql_errors_total', { operation: 'MetricsOk' })).toBeNull();
    expect(sample(text, 'graphql_execution_duration_seconds_count', { operation: 'MetricsOk', type: 'query' })).toBe(2);
    expect(sample(text, 'http_requests_total', { route: '/graphql', status: '401' })).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'http_requests_total', { route: '/graphql', status: '200' })).toBeGreaterThanOrEqual(2);
    expect(sample(text, 'nodejs_eventloop_lag_seconds')).not.toBeNull();
    expect(sample(text, 'graphql_ws_sockets')).toBe(0);

    // A graphql-ws client: the socket gauge goes up while it is open, down when it closes.
    const client = createClient({ url: server.wsUrl, webSocketImpl: WebSocket, retryAttempts: 0, connectionParams: { authorization: `Bearer ${viewer}` } });
    await new Promise<void>((resolve, reject) => {
      client.subscribe({ query: 'query WsCount { customers { totalCount } }' }, { next: () => {}, error: reject, complete: resolve });
    });
    text = await scrape(`${server.baseUrl}/metrics`);
    expect(sample(text, 'graphql_ws_sockets')).toBe(1);
    expect(sample(text, 'graphql_operations_total', { operation: 'WsCount', type: 'query' })).toBe(1);
    await client.dispose();
    await vi.waitFor(async () => expect(sample(await scrape(`${server.baseUrl}/metrics`), 'graphql_ws_sockets')).toBe(0));
  });

  it('with a metrics port, serves /metrics there only: the main port answers 404', async () => {
    const separate = await startTestServer({ database: server.database, auth: createAuthenticator({ secret: SECRET, defaultTenant: 'default' }), metricsPort: 0 });
    try {
      const address = separate.app.metricsServer!.address() as { port: number };
      const metricsUrl = `http://127.0.0.1:${address.port}`;
      await post(separate.url, 'query Separate { customers { totalCount } }', { authorization: `Bearer ${viewer}` });
      expect((await fetch(`${separate.baseUrl}/metrics`)).status).toBe(404);
      const text = await scrape(`${metricsUrl}/metrics`);
      expect(sample(text, 'graphql_operations_total', { operation: 'Separate', type: 'query' })).toBe(1);
      expect(sample(text, 'http_requests_total', { route: '/metrics', status: '404' })).toBe(1);
      expect((await fetch(`${metricsUrl}/graphql`)).status).toBe(404);
    } finally {
      await separate.stop();
    }
    expect(separate.app.metricsServer!.listening).toBe(false);
  });
});

describe(`SQL metrics (${databaseKind})`, () => {
  it('times the data path’s statements (page, count, cache check) by outcome, and shows the pool’s size and use', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    const database = await createTestDatabase({ observeStatement: metrics.database.observeStatement });
    metrics.database.poolSize(7);
    const server = await startTestServer({ database, data: { customers: 5, tickets: 9, days: 3, seed: 2 }, metrics });
    try {
      const count = (text: string, outcome: string) => sample(text, 'db_statement_duration_seconds_count', { outcome }) ?? 0;
      const before = await scrape(`${server.baseUrl}/metrics`);
      const answer = await post(server.url, '{ customers(first: 2) { totalCount nodes { name } } tickets(first: 2) { totalCount } }', {});
      expect(answer.body.data?.customers.nodes).toHaveLength(2);
      const after = await scrape(`${server.baseUrl}/metrics`);
      // Two pages and at least two counts (and the freshness of each source).
      expect(count(after, 'ok') - count(before, 'ok')).toBeGreaterThanOrEqual(4);
      await expect(database.timed(() => Promise.reject(new Error('refused')))).rejects.toThrow('refused');
      expect(count(await scrape(`${server.baseUrl}/metrics`), 'error')).toBe(1);
      expect(sample(after, 'db_statements_in_flight')).toBe(0);
      expect(sample(after, 'db_pool_connections_max')).toBe(7);
    } finally {
      await server.stop();
      await database.close();
    }
  });
});

describe(`voice observability (${databaseKind})`, () => {
  const lines: string[] = [];
  const metrics = createMetrics({ defaultMetrics: false });
  let vs: VoiceServer;

  beforeAll(async () => {
    vs = await startVoiceServer({ extra: { metrics: metrics.voice }, server: { metrics, log: createLogger('info', (line) => lines.push(line)) } });
  });
  afterAll(async () => {
    await vs?.stop();
  });

  it('counts a text turn by status and observes its stages; its log lines name the turn, session and tenant', async () => {
    // A session's live subscription is an active subscription while it is open.
    const live = subscribeEvents(vs.ws, 'obs-session');
    await vi.waitFor(async () => expect(sample(await metrics.registry.metrics(), 'graphql_ws_subscriptions')).toBe(1));
    const { turn, events } = await runTurn(vs, { text: 'How many customers do we have?', sessionId: 'obs-session' });
    expect(events.at(-1)?.__typename).toBe('TurnCompletedEvent');
    await vi.waitFor(async () => expect(sample(await metrics.registry.metrics(), 'voice_turns_total', { status: 'COMPLETED', code: 'none' })).toBe(1));
    const text = await metrics.registry.metrics();
    expect(sample(text, 'voice_stage_duration_seconds_count', { stage: 'agent' })).toBe(1);
    expect(sample(text, 'voice_stage_duration_seconds_count', { stage: 'total' })).toBe(1);
    // A text turn has no speech-to-text stage.
    expect(sample(text, 'voice_stage_duration_seconds_count', { stage: 'stt' })).toBeNull();
    expect(sample(await scrape(`${vs.server.baseUrl}/metrics`), 'voice_turns_total', { status: 'COMPLETED', code: 'none' })).toBe(1);
    live.unsubscribe();
    await vi.waitFor(async () => expect(sample(await metrics.registry.metrics(), 'graphql_ws_subscriptions')).toBe(0));

    const ended = lines.map((l) => JSON.parse(l)).find((l) => l.msg === 'voice: turn ended');
    expect(ended).toMatchObject({ turnId: turn.id, sessionId: 'obs-session', tenant: 'default', status: 'COMPLETED', timings: { totalMs: expect.any(Number) } });
  });
});
