// Identity and tenant isolation through the front door: bearer JWTs (HS256 and JWKS) on HTTP, SSE and graphql-ws,
// roles, and every entry point probed across tenants and subjects (lists, search, node ids, nested fields, cache hits,
// agent tools through a voice turn, voiceSession, voiceEvents by session and by turn): all denied.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createClient } from 'graphql-ws';
import { type JWK, SignJWT, UnsecuredJWT, exportJWK, generateKeyPair } from 'jose';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../src/config';
import { importDirectory } from '../src/db/import';
import { createAuthenticator } from '../src/server/auth';
import { createResponseCache } from '../src/server/cache';
import { type TestDatabase, createTestDatabase } from './helpers/database';
import { repoRoot } from './helpers/main';
import { type TestServer, generatedDataDir, startTestServer } from './helpers/server';
import { readDataset } from './helpers/truth';
import { type VoiceServer, VOICE_TURN, startVoiceServer, subscribeEvents } from './helpers/voice';

const SECRET = 'a-test-secret-of-at-least-thirty-two-characters';
const key = new TextEncoder().encode(SECRET);

async function token(claims: Record<string, unknown>, options: { secret?: Uint8Array; exp?: number | string; nbf?: number | string; issuer?: string; audience?: string; sub?: string } = {}) {
  const jwt = new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setSubject(options.sub ?? 'alice').setIssuedAt().setExpirationTime(options.exp ?? '1h');
  if (options.nbf !== undefined) jwt.setNotBefore(options.nbf);
  if (options.issuer) jwt.setIssuer(options.issuer);
  if (options.audience) jwt.setAudience(options.audience);
  return jwt.sign(options.secret ?? key);
}

const bearer = (t: string) => ({ authorization: `Bearer ${t}` });
const now = () => Math.floor(Date.now() / 1000);

async function post(url: string, query: string, headers: Record<string, string> = {}, variables?: Record<string, unknown>) {
  const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ query, variables }) });
  return { status: r.status, headers: r.headers, body: (await r.json()) as { data?: any; errors?: { message: string; extensions?: Record<string, unknown> }[] } };
}

function wsClient(url: string, connectionParams?: Record<string, unknown>) {
  return createClient({ url: url.replace(/^http/, 'ws'), webSocketImpl: WebSocket, retryAttempts: 0, lazy: true, connectionParams });
}

/** Runs one operation over a fresh socket; resolves with its results, or with the close event that ended it. */
function overSocket(url: string, query: string, connectionParams?: Record<string, unknown>): Promise<{ results: any[]; closed?: { code: number; reason: string } }> {
  const client = wsClient(url, connectionParams);
  const results: any[] = [];
  return new Promise((resolve) => {
    client.subscribe(
      { query },
      {
        next: (r) => results.push(r),
        error: (e) => {
          const closed = e as { code?: number; reason?: string };
          void client.dispose();
          resolve({ results, closed: typeof closed.code === 'number' ? { code: closed.code, reason: String(closed.reason) } : undefined });
        },
        complete: () => {
          void client.dispose();
          resolve({ results });
        },
      },
    );
  });
}

describe('configuration', () => {
  it('refuses production without auth unless AUTH_DISABLED says so, and both key kinds at once', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrowError(/AUTH_JWT_SECRET: NODE_ENV=production needs auth/);
    expect(loadConfig({ NODE_ENV: 'production', AUTH_DISABLED: 'true' }).AUTH_DISABLED).toBe(true);
    expect(loadConfig({ NODE_ENV: 'production', AUTH_JWT_SECRET: SECRET }).AUTH_JWT_SECRET).toBe(SECRET);
    expect(() => loadConfig({ AUTH_JWT_SECRET: 'short' })).toThrowError(/AUTH_JWT_SECRET: must be at least 32 characters/);
    expect(() => loadConfig({ AUTH_JWT_SECRET: SECRET, AUTH_JWKS_URL: 'http://127.0.0.1/jwks' })).toThrowError(/AUTH_JWKS_URL: set either/);
  });
});

describe('verified tokens', () => {
  it('checks the expiry of an already verified token again on every use', async () => {
    const auth = createAuthenticator({ secret: SECRET, defaultTenant: 'default', clockToleranceSeconds: 0 });
    const t = await token({ tenant: 'acme', roles: ['viewer'] }, { exp: now() + 30 });
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      await expect(auth.authenticate(`Bearer ${t}`)).resolves.toMatchObject({ tenantId: 'acme', subject: 'alice' });
      vi.setSystemTime(Date.now() + 31_000);
      await expect(auth.authenticate(`Bearer ${t}`)).rejects.toMatchObject({ reason: 'token expired' });
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('HS256 tokens', () => {
  let database: TestDatabase;
  let vs: VoiceServer;
  let url: string;
  let acme: Awaited<ReturnType<typeof readDataset>>;
  let globex: Awaited<ReturnType<typeof readDataset>>;
  const tokens: Record<string, string> = {};
  /** Every SQL statement the app sends through drizzle (connectors, the agent's tools, the voice store). */
  const statements: string[] = [];

  beforeAll(async () => {
    database = await createTestDatabase({ onQuery: (query) => statements.push(query) });
    // Two tenants whose customer and ticket numbers overlap (both start at 1) but whose data differ.
    const acmeDir = await generatedDataDir({ customers: 30, tickets: 60, days: 10, seed: 11 });
    const globexDir = await generatedDataDir({ customers: 7, tickets: 9, days: 10, seed: 22 });
    await importDirectory(database, acmeDir, { tenantId: 'acme' });
    await importDirectory(database, globexDir, { tenantId: 'globex' });
    acme = readDataset(acmeDir);
    globex = readDataset(globexDir);
    tokens.acme = await token({ tenant: 'acme', roles: ['viewer', 'voice'] }, { sub: 'alice' });
    tokens.acmeBob = await token({ tenant: 'acme', roles: ['viewer', 'voice'] }, { sub: 'bob' });
    tokens.acmeViewer = await token({ tenant: 'acme', roles: 'viewer' }, { sub: 'vera' });
    tokens.acmeNoRole = await token({ tenant: 'acme', roles: ['admin'] }, { sub: 'nora' });
    tokens.globex = await token({ tenant: 'globex', roles: ['viewer', 'voice'] }, { sub: 'alice' });
    vs = await startVoiceServer({
      database,
      server: {
        auth: createAuthenticator({ secret: SECRET, defaultTenant: 'default', issuer: undefined }),
        http: { responseCache: createResponseCache({ database, ttlMs: 60_000 }) },
        headers: bearer(tokens.acme),
      },
      connectionParams: { authorization: `Bearer ${tokens.acme}` },
    });
    url = vs.server.url;
    // Only what requests send counts (not the migrations and imports above).
    statements.length = 0;
  });
  afterAll(async () => {
    await vs?.stop();
    await database?.close();
  });

  it('refuses every kind of bad token with 401, WWW-Authenticate: Bearer and UNAUTHENTICATED, saying no more', async () => {
    const other = new TextEncoder().encode('another-secret-of-at-least-thirty-two-chars!');
    const bad: Record<string, string | null> = {
      missing: null,
      'not a bearer': 'Basic YWxpY2U6c2VjcmV0',
      malformed: 'Bearer not-a-jwt',
      forged: `Bearer ${await token({ tenant: 'acme', roles: ['viewer'] }, { secret: other })}`,
      expired: `Bearer ${await token({ tenant: 'acme', roles: ['viewer'] }, { exp: now() - 120 })}`,
      'not yet valid': `Bearer ${await token({ tenant: 'acme', roles: ['viewer'] }, { nbf: now() + 600 })}`,
      'alg none': `Bearer ${new UnsecuredJWT({ tenant: 'acme', roles: ['viewer'] }).setSubject('alice').setExpirationTime('1h').encode()}`,
      'no tenant': `Bearer ${await token({ roles: ['viewer'] })}`,
      'tenant not a string': `Bearer ${await token({ tenant: ['acme'], roles: ['viewer'] })}`,
    };
    for (const [kind, authorization] of Object.entries(bad)) {
      const r = await post(url, '{ customers { totalCount } }', authorization ? { authorization } : {});
      expect(r.status, kind).toBe(401);
      expect(r.headers.get('www-authenticate'), kind).toMatch(/^Bearer/);
      expect(r.body.errors?.[0].extensions?.code, kind).toBe('UNAUTHENTICATED');
      expect(r.body.errors?.[0].message, kind).toBe('Authentication required: send a valid bearer token in the Authorization header.');
      expect(r.body.data, kind).toBeUndefined();
    }
    // GET queries and server-sent-events subscriptions go through the same check.
    const get = await fetch(`${url}?query=${encodeURIComponent('{ customers { totalCount } }')}`, { headers: { accept: 'application/json' } });
    expect(get.status).toBe(401);
    const sse = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify({ query: 'subscription { voiceEvents(sessionId: "s1") { seq } }' }),
    });
    expect(sse.status).toBe(401);
    await sse.body?.cancel();
  });

  it('accepts the development token that `npm run token` mints, as the README shows', async () => {
    // Not execFileSync: blocking this process for the CLI's start-up would let the server close our idle keep-alive
    // socket unseen, and the next request would be sent on a dead one.
    const minted = (
      await promisify(execFile)(process.execPath, ['--import', 'tsx', 'src/server/token-cli.ts', '--tenant', 'globex', '--sub', 'dev', '--roles', 'viewer'], {
        cwd: repoRoot,
        env: { ...process.env, AUTH_JWT_SECRET: SECRET },
        encoding: 'utf8',
      })
    ).stdout.trim();
    const r = await post(url, '{ customers { totalCount } }', bearer(minted));
    expect(r.body.data.customers.totalCount).toBe(globex.customers.length);
    expect((await post(url, VOICE_TURN, bearer(minted), { input: { text: 'Hello?' } })).body.errors?.[0].extensions?.code).toBe('FORBIDDEN');
  });

  it('honours wrong issuer and audience when they are configured', async () => {
    const strict = await startTestServer({ database, auth: createAuthenticator({ secret: SECRET, issuer: 'https://id.example', audience: 'udc', defaultTenant: 'default' }) });
    try {
      const right = await token({ tenant: 'acme', roles: ['viewer'] }, { issuer: 'https://id.example', audience: 'udc' });
      expect((await post(strict.url, '{ customers { totalCount } }', bearer(right))).status).toBe(200);
      for (const wrong of [
        await token({ tenant: 'acme', roles: ['viewer'] }, { issuer: 'https://evil.example', audience: 'udc' }),
        await token({ tenant: 'acme', roles: ['viewer'] }, { issuer: 'https://id.example', audience: 'other' }),
        await token({ tenant: 'acme', roles: ['viewer'] }),
      ]) {
        const r = await post(strict.url, '{ customers { totalCount } }', bearer(wrong));
        expect(r.status).toBe(401);
        expect(r.body.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
      }
    } finally {
      await strict.stop();
    }
  });

  it('needs the viewer role to query and the voice role to run a voice turn', async () => {
    const none = await post(url, '{ customers { totalCount } }', bearer(tokens.acmeNoRole));
    expect(none.body.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    expect(none.body.data ?? null).toBeNull();
    const viewer = await post(url, '{ customers { totalCount } }', bearer(tokens.acmeViewer));
    expect(viewer.body.data.customers.totalCount).toBe(acme.customers.length);
    const turn = await post(url, VOICE_TURN, bearer(tokens.acmeViewer), { input: { text: 'How many customers do we have?' } });
    expect(turn.body.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    // Over graphql-ws too.
    const ws = await overSocket(url, '{ customers { totalCount } }', { authorization: `Bearer ${tokens.acmeNoRole}` });
    expect(ws.results[0]?.errors?.[0].extensions?.code ?? ws.results[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  it('scopes lists, search, single records, node ids and nested fields to the caller\'s tenant', async () => {
    const list = '{ customers(first: 100) { totalCount nodes { customerId name } } tickets { totalCount } }';
    const a = await post(url, list, bearer(tokens.acme));
    const g = await post(url, list, bearer(tokens.globex));
    expect(a.body.data.customers.totalCount).toBe(acme.customers.length);
    expect(g.body.data.customers.totalCount).toBe(globex.customers.length);
    expect(g.body.data.tickets.totalCount).toBe(globex.tickets.length);
    expect(new Set(g.body.data.customers.nodes.map((c: { name: string }) => c.name))).toEqual(new Set(globex.customers.map((c) => c.name)));

    // A customer number that only acme has: not found for globex (null, no error).
    const acmeOnly = acme.customers.find((c) => !globex.customers.some((x) => x.customer_id === c.customer_id))!;
    const one = `{ customer(customerId: ${acmeOnly.customer_id}) { id name tickets(first: 50) { totalCount } } }`;
    const mine = await post(url, one, bearer(tokens.acme));
    expect(mine.body.data.customer.name).toBe(acmeOnly.name);
    const theirs = await post(url, one, bearer(tokens.globex));
    expect(theirs.body).toEqual({ data: { customer: null } });
    // acme's global id, presented by globex: not found.
    const node = await post(url, 'query($id: ID!) { node(id: $id) { id ... on Customer { name } } }', bearer(tokens.globex), { id: mine.body.data.customer.id });
    expect(node.body).toEqual({ data: { node: null } });

    // A number both tenants have: each sees its own record and its own nested tickets.
    const shared = globex.customers[0].customer_id;
    const both = `{ customer(customerId: ${shared}) { name tickets(first: 50) { totalCount nodes { subject } } } }`;
    const sharedA = await post(url, both, bearer(tokens.acme));
    const sharedG = await post(url, both, bearer(tokens.globex));
    expect(sharedA.body.data.customer.name).toBe(acme.customers.find((c) => c.customer_id === shared)!.name);
    expect(sharedG.body.data.customer.name).toBe(globex.customers[0].name);
    expect(sharedG.body.data.customer.tickets.totalCount).toBe(globex.tickets.filter((t) => t.customer_id === shared).length);

    // Search: an acme name finds nothing for globex (unless globex has the same name).
    const name = acmeOnly.name;
    const search = `{ customers(filter: { search: ${JSON.stringify(name)} }) { totalCount } }`;
    expect((await post(url, search, bearer(tokens.acme))).body.data.customers.totalCount).toBeGreaterThan(0);
    expect((await post(url, search, bearer(tokens.globex))).body.data.customers.totalCount).toBe(globex.customers.filter((c) => c.name.toLowerCase().includes(name.toLowerCase()) || c.email.toLowerCase().includes(name.toLowerCase())).length);
  });

  it('serves cache hits only from the caller\'s tenant and roles, after authentication', async () => {
    const query = '{ customers { totalCount } }';
    for (let i = 0; i < 2; i++) {
      expect((await post(url, query, bearer(tokens.acme))).body.data.customers.totalCount).toBe(acme.customers.length);
      expect((await post(url, query, bearer(tokens.globex))).body.data.customers.totalCount).toBe(globex.customers.length);
      expect((await post(url, query, bearer(tokens.acmeNoRole))).body.errors?.[0].extensions?.code).toBe('FORBIDDEN');
      expect((await post(url, query)).status).toBe(401);
    }
  });

  it('keeps voice sessions, turns and events to their tenant and subject, and the agent\'s tools to the tenant', async () => {
    // globex's alice asks; the agent's tools count globex's customers, not acme's.
    const started = await post(url, VOICE_TURN, bearer(tokens.globex), { input: { text: 'How many customers do we have?', sessionId: 'support-call' } });
    const turn = started.body.data.voiceTurn;
    const globexWs = wsClient(url, { authorization: `Bearer ${tokens.globex}` });
    const events = subscribeEvents(globexWs, turn.sessionId, turn.id);
    await events.done;
    const completed = events.events.find((e) => e.__typename === 'TurnCompletedEvent') as { responseText?: string } | undefined;
    expect(completed?.responseText ?? JSON.stringify(events.events)).toMatch(new RegExp(`\\b${globex.customers.length}\\b`));
    await globexWs.dispose();

    // Same session id, same subject name, other tenant: nothing. Same tenant, other subject: nothing.
    const session = 'query($s: ID!) { voiceSession(sessionId: $s) { id turns { id responseText } } }';
    expect((await post(url, session, bearer(tokens.globex), { s: 'support-call' })).body.data.voiceSession.turns).toHaveLength(1);
    expect((await post(url, session, bearer(tokens.acme), { s: 'support-call' })).body).toEqual({ data: { voiceSession: null } });
    const bobTurn = await post(url, VOICE_TURN, bearer(tokens.acmeBob), { input: { text: 'How many open tickets do we have?', sessionId: 'support-call' } });
    expect(bobTurn.body.data.voiceTurn.sessionId).toBe('support-call');
    expect((await post(url, session, bearer(tokens.acme), { s: 'support-call' })).body).toEqual({ data: { voiceSession: null } });

    // Following another owner's turn by its id: not found, worded as for a turn that never existed.
    const byTurn = `subscription { voiceEvents(sessionId: "support-call", turnId: "${turn.id}") { seq } }`;
    const probe = await overSocket(url, byTurn, { authorization: `Bearer ${tokens.acme}` });
    expect(probe.results[0]?.errors?.[0].message).toBe(`turnId: no turn ${turn.id} in session support-call`);
    expect(probe.results.some((r) => r.data?.voiceEvents)).toBe(false);

    // A session-wide follower of another tenant sees none of globex's next turn.
    const acmeWs = wsClient(url, { authorization: `Bearer ${tokens.acme}` });
    const acmeSession = subscribeEvents(acmeWs, 'support-call');
    const globexWs2 = wsClient(url, { authorization: `Bearer ${tokens.globex}` });
    const globexSession = subscribeEvents(globexWs2, 'support-call');
    const next = await post(url, VOICE_TURN, bearer(tokens.globex), { input: { text: 'How many open tickets do we have?', sessionId: 'support-call' } });
    await globexSession.until((e) => e.__typename === 'TurnCompletedEvent' && e.turnId === next.body.data.voiceTurn.id);
    await vs.voice.idle();
    expect(acmeSession.events).toEqual([]);
    await acmeWs.dispose();
    await globexWs2.dispose();
  });

  it('sends no statement on a tenant table without a tenant_id condition (a forgotten WHERE would show here)', async () => {
    // Every statement of every test above, plus the remaining root fields and orders.
    const more = [
      '{ tickets(filter: { status: OPEN }, orderBy: NEWEST_FIRST, first: 3) { totalCount voiceSummary metadata { dataFreshness } nodes { id customer { name } } } }',
      '{ ticket(ticketId: 1) { id subject customer { tickets { totalCount } } } }',
      '{ metricNames metrics(first: 3) { totalCount nodes { metric value } } metricSummary(metric: "daily_active_users", lastDays: 7) { average voiceSummary } }',
      '{ customers(orderBy: NEWEST_FIRST, page: 2, first: 5) { totalCount nodes { customerId } } }',
    ];
    for (const q of more) expect((await post(url, q, bearer(tokens.acme))).body.errors).toBeUndefined();
    const tenantTables = /\b(?:from|join|into|update)\s+"?(customers|tickets|metric_points|ticket_counts|customer_counts|data_changes|voice_sessions|voice_turns)"?/gi;
    let checked = 0;
    for (const statement of statements) {
      const tables = [...statement.matchAll(tenantTables)].map((m) => m[1]);
      if (!tables.length) continue;
      checked++;
      if (/^\s*insert/i.test(statement)) expect(statement, statement).toMatch(/"tenant_id"/);
      // One tenant condition per table the statement reads (a join constrains each side, or joins on tenant_id).
      else expect((statement.match(/tenant_id"?\s*(?:=|in\b)/gi) ?? []).length, statement).toBeGreaterThanOrEqual(tables.length);
    }
    expect(checked).toBeGreaterThan(20);
  });

  it('closes a socket with 4403 for a missing or bad token, and when its token expires', async () => {
    const missing = await overSocket(url, '{ customers { totalCount } }');
    expect(missing.closed?.code).toBe(4403);
    const forged = await overSocket(url, '{ customers { totalCount } }', { authorization: `Bearer ${await token({ tenant: 'acme', roles: ['viewer'] }, { secret: new TextEncoder().encode('x'.repeat(40)) })}` });
    expect(forged.closed?.code).toBe(4403);
    const good = await overSocket(url, '{ customers { totalCount } }', { authorization: `Bearer ${tokens.acme}` });
    expect(good.results[0].data.customers.totalCount).toBe(acme.customers.length);

    // A token valid for one more second: the socket is open, then closed at expiry while a subscription runs.
    const shortLived = await token({ tenant: 'acme', roles: ['viewer'] }, { exp: now() + 1 });
    const ending = await overSocket(url, 'subscription { voiceEvents(sessionId: "quiet") { seq } }', { authorization: `Bearer ${shortLived}` });
    expect(ending.closed).toEqual({ code: 4403, reason: 'Token expired' });
  });
});

describe('JWKS (RS256/ES256)', () => {
  let jwks: Server;
  let keys: JWK[] = [];
  let fetches = 0;
  let failing = false;
  let server: TestServer;

  const signer = async (alg: 'RS256' | 'ES256', kid: string) => {
    const pair = await generateKeyPair(alg, { extractable: true });
    keys.push({ ...(await exportJWK(pair.publicKey)), kid, alg, use: 'sig' });
    return (claims: Record<string, unknown>) => new SignJWT(claims).setProtectedHeader({ alg, kid }).setSubject('alice').setExpirationTime('1h').sign(pair.privateKey);
  };

  beforeAll(async () => {
    jwks = createServer((_req, res) => {
      fetches++;
      if (failing) return void res.writeHead(500).end('down');
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys }));
    });
    await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
    const jwksUrl = `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/jwks.json`;
    server = await startTestServer({ data: { customers: 5, tickets: 5, days: 3, seed: 3 }, auth: createAuthenticator({ jwksUrl, jwksCooldownMs: 0, defaultTenant: 'default' }) });
  });
  afterAll(async () => {
    await server?.stop();
    await new Promise<void>((resolve) => jwks.close(() => resolve()));
  });

  it('verifies RS256 and ES256 keys from the set, fetches it again for a new kid, and refuses HS256 and alg none', async () => {
    const rs = await signer('RS256', 'k1');
    const ok = await post(server.url, '{ customers { totalCount } }', bearer(await rs({ tenant: 'default', roles: ['viewer'] })));
    expect(ok.body.data.customers.totalCount).toBe(5);
    const fetched = fetches;

    // A key added after the set was cached (rotation): its unknown kid makes the server fetch the set again.
    const es = await signer('ES256', 'k2');
    const rotated = await post(server.url, '{ customers { totalCount } }', bearer(await es({ tenant: 'default', roles: ['viewer'] })));
    expect(rotated.body.data.customers.totalCount).toBe(5);
    expect(fetches).toBe(fetched + 1);

    // HS256 signed with a public key's bytes (the classic confusion), a plain HS256 secret, and alg none: refused.
    const confused = await new SignJWT({ tenant: 'default', roles: ['viewer'] })
      .setProtectedHeader({ alg: 'HS256', kid: 'k1' })
      .setSubject('alice')
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode(JSON.stringify(keys[0])));
    const none = new UnsecuredJWT({ tenant: 'default', roles: ['viewer'] }).setSubject('alice').setExpirationTime('1h').encode();
    for (const bad of [confused, await token({ tenant: 'default', roles: ['viewer'] }), none]) {
      const r = await post(server.url, '{ customers { totalCount } }', bearer(bad));
      expect(r.status).toBe(401);
      expect(r.body.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
    }
  });

  it('answers 503 SERVICE_UNAVAILABLE, not 401, while the key set cannot be fetched, and recovers by itself', async () => {
    const rs = await signer('RS256', 'k3');
    const valid = await rs({ tenant: 'default', roles: ['viewer'] });
    failing = true;
    try {
      const r = await post(server.url, '{ customers { totalCount } }', bearer(valid));
      expect(r.status).toBe(503);
      expect(r.headers.get('retry-after')).toBe('5');
      expect(r.body.errors?.[0].extensions?.code).toBe('SERVICE_UNAVAILABLE');
      const ws = await overSocket(server.url, '{ customers { totalCount } }', { authorization: `Bearer ${valid}` });
      expect(ws.closed?.code).toBe(1013);
    } finally {
      failing = false;
    }
    expect((await post(server.url, '{ customers { totalCount } }', bearer(valid))).body.data.customers.totalCount).toBe(5);
  });
});
