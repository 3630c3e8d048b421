// Response cache through the real server: repeated queries are served from memory, and no cached answer
// survives a data change (a direct SQL update, an import), an error, or its time-to-live.
import { request } from 'node:http';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConnectors } from '../src/connectors';
import { importDirectory } from '../src/db/import';
import { type App, buildApp } from '../src/server/app';
import { type ResponseCache, createResponseCache } from '../src/server/cache';
import { createLogger } from '../src/logger';
import { type TestDatabase, createTestDatabase } from './helpers/database';
import { generatedDataDir } from './helpers/server';

const TICKETS = `query { tickets(filter: {status: OPEN}, first: 3) { totalCount voiceSummary nodes { ticketId status } } }`;

describe('response cache', () => {
  let database: TestDatabase;
  let app: App;
  let cache: ResponseCache;
  let url: string;
  let clock = Date.parse('2026-11-24T12:00:00Z');

  const post = async (query: string, variables?: Record<string, unknown>) => {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ query, variables }),
    });
    return { status: response.status, body: (await response.json()) as any };
  };
  const openCount = async () =>
    Number((await database.rows<{ n: number }>(sql`SELECT count(*)::int AS n FROM tickets WHERE status = 'open'`))[0].n);

  beforeAll(async () => {
    database = await createTestDatabase();
    await importDirectory(database, await generatedDataDir({ customers: 20, tickets: 200, days: 10, seed: 3, anchorDate: '2026-11-24' }));
    cache = createResponseCache({ database, ttlMs: 60_000, now: () => clock });
    const services = { connectors: createConnectors(database), log: createLogger('silent'), tenantId: 'default' };
    app = buildApp({ services, database, port: 0, host: '127.0.0.1', responseCache: cache, corsOrigins: ['https://a.example', 'https://b.example'] });
    url = await app.start();
  });
  afterAll(async () => {
    await app?.stop();
    await database?.close();
  });

  it('serves a repeated query from the cache with the same answer', async () => {
    const first = await post(TICKETS);
    const before = cache.stats();
    const second = await post(TICKETS);
    expect(second).toEqual(first);
    expect(first.body.data.tickets.totalCount).toBe(await openCount());
    expect(cache.stats().hits).toBe(before.hits + 1);
  });

  it('keeps the CORS headers of the Origin that asked', async () => {
    const ask = (origin: string) =>
      fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json', origin },
        body: JSON.stringify({ query: '{ metricNames }' }),
      });
    const hits = cache.stats().hits;
    const first = await ask('https://a.example');
    const second = await ask('https://a.example');
    const other = await ask('https://b.example');
    expect(cache.stats().hits).toBe(hits + 1);
    expect(second.headers.get('access-control-allow-origin')).toBe(first.headers.get('access-control-allow-origin'));
    expect(second.headers.get('content-type')).toBe(first.headers.get('content-type'));
    expect(other.headers.get('access-control-allow-origin')).toBe('https://b.example');
  });

  it('answers a chunked request body (no content-length) like any other', async () => {
    const body = await new Promise<string>((resolve, reject) => {
      const req = request(url, { method: 'POST', headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' } }, (res) => {
        let text = '';
        res.on('data', (chunk) => (text += chunk));
        res.on('end', () => resolve(text));
      });
      req.on('error', reject);
      req.write('{"query":"{ tickets(first: 1) ');
      req.end('{ totalCount } }"}');
    });
    expect(JSON.parse(body).data.tickets.totalCount).toBe(
      Number((await database.rows<{ n: number }>(sql`SELECT count(*)::int AS n FROM tickets`))[0].n),
    );
  });

  it('answers with new numbers after a direct SQL update', async () => {
    const before = (await post(TICKETS)).body.data.tickets.totalCount;
    await database.rows(sql`UPDATE tickets SET status = 'closed' WHERE ticket_id IN
      (SELECT ticket_id FROM tickets WHERE status = 'open' ORDER BY ticket_id LIMIT 5)`);
    const after = (await post(TICKETS)).body.data.tickets;
    expect(after.totalCount).toBe(before - 5);
    expect(after.totalCount).toBe(await openCount());
    expect(after.voiceSummary).toContain(String(after.totalCount));
  });

  it('answers with new numbers after an import', async () => {
    const customers = (await post('{ customers { totalCount } }')).body.data.customers.totalCount;
    const hitsBefore = cache.stats().hits;
    await post('{ customers { totalCount } }');
    expect(cache.stats().hits).toBe(hitsBefore + 1);
    // A second tenant-wide import that adds customers beyond the first set (ids 1..40 instead of 1..20).
    await importDirectory(database, await generatedDataDir({ customers: 40, tickets: 400, days: 10, seed: 3, anchorDate: '2026-11-24' }));
    const truth = Number((await database.rows<{ n: number }>(sql`SELECT count(*)::int AS n FROM customers`))[0].n);
    expect(truth).toBeGreaterThan(customers);
    expect((await post('{ customers { totalCount } }')).body.data.customers.totalCount).toBe(truth);
    expect((await post(TICKETS)).body.data.tickets.totalCount).toBe(await openCount());
  });

  it('does not keep answers with errors', async () => {
    const bad = '{ tickets(first: 0) { totalCount } }';
    const stores = cache.stats().stores;
    const first = await post(bad);
    const second = await post(bad);
    expect(first.body.errors[0].extensions.code).toBe('BAD_USER_INPUT');
    expect(second.body.errors[0].extensions.code).toBe('BAD_USER_INPUT');
    expect(cache.stats().stores).toBe(stores);
  });

  it('keys by variables and drops entries past their time-to-live', async () => {
    const query = 'query ($first: Int) { tickets(first: $first) { nodes { ticketId } } }';
    const two = await post(query, { first: 2 });
    const three = await post(query, { first: 3 });
    expect(two.body.data.tickets.nodes).toHaveLength(2);
    expect(three.body.data.tickets.nodes).toHaveLength(3);
    const misses = cache.stats().misses;
    await post(query, { first: 2 });
    expect(cache.stats().misses).toBe(misses);
    clock += 61_000;
    await post(query, { first: 2 });
    expect(cache.stats().misses).toBe(misses + 1);
  });
});
