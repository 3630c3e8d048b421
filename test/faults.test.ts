// Faults under a running server: its PostgreSQL and Redis connections dropped (TCP proxies the test controls stand in
// front of the real servers), idle and busy. The process must stay up and answer again by itself, with no restart.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestDatabase, createTestDatabase, usingPostgres } from './helpers/database';
import { type MainProcess, exitOf, startMain } from './helpers/main';
import { type TcpProxy, startTcpProxy } from './helpers/tcp-proxy';

const query = '{ tickets { totalCount } }';

async function ask(url: string): Promise<{ status: number; body: any } | { failed: string }> {
  try {
    const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query }), signal: AbortSignal.timeout(10_000) });
    return { status: r.status, body: await r.json() };
  } catch (error) {
    return { failed: (error as Error).message };
  }
}

/** Asks until the answer is whole (the pool reconnects on demand), at most `tries` times. */
async function askUntilAnswered(url: string, tries = 20) {
  let last;
  for (let i = 0; i < tries; i++) {
    last = await ask(url);
    if ('status' in last && last.status === 200 && last.body.data?.tickets) return last;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return last;
}

describe.skipIf(!usingPostgres)('dropped PostgreSQL and Redis connections (needs DATABASE_URL: the proxy sits in front of a real server)', () => {
  let database: TestDatabase;
  let proxy: TcpProxy;
  let redisProxy: TcpProxy;
  let main: MainProcess;
  let url: string;

  beforeAll(async () => {
    database = await createTestDatabase();
    const target = new URL(database.url!);
    proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
    const viaProxy = new URL(database.url!);
    viaProxy.host = `127.0.0.1:${proxy.port}`;
    redisProxy = await startTcpProxy({ host: '127.0.0.1', port: 6379 });
    main = startMain({ DATABASE_URL: viaProxy.toString(), REDIS_URL: `redis://127.0.0.1:${redisProxy.port}`, LOG_LEVEL: 'warn' });
    url = await main.url;
  });

  afterAll(async () => {
    if (main && main.child.exitCode === null) {
      main.child.kill('SIGTERM');
      await exitOf(main.child);
    }
    await proxy?.close();
    await redisProxy?.close();
    await database?.close();
  });

  it('keeps the process up when every connection is cut while idle, and answers again without a restart', async () => {
    expect(await ask(url)).toMatchObject({ status: 200, body: { data: { tickets: { totalCount: 0 } } } });
    const before = proxy.accepted;
    proxy.cut();
    await redisProxy.refuse();
    // Give the pools' idle clients time to see their sockets close (that is when an unhandled 'error' would kill us),
    // and Redis's clients time to fail a reconnection or two.
    await new Promise((resolve) => setTimeout(resolve, 800));
    await redisProxy.restore();
    expect(main.child.exitCode, main.output()).toBeNull();
    expect(await askUntilAnswered(url)).toMatchObject({ status: 200, body: { data: { tickets: { totalCount: 0 } } } });
    expect(proxy.accepted).toBeGreaterThan(before);
    expect(main.child.exitCode, main.output()).toBeNull();
    // Every client had a listener for its errors: nothing went unhandled (ioredis prints those to the console).
    expect(main.output()).not.toMatch(/Unhandled error event/);
  });

  it('answers SERVICE_UNAVAILABLE (503) at once while PostgreSQL is unreachable, /ready says 503, and resumes by itself', async () => {
    await proxy.refuse();
    try {
      // ask() gives up after 10 s: an answer at all means no hang.
      const down = await ask(url);
      expect('status' in down && down.status, JSON.stringify(down)).toBe(503);
      const body = 'body' in down ? down.body : {};
      expect(body.errors?.[0].extensions?.code).toBe('SERVICE_UNAVAILABLE');
      expect(body.errors?.[0].message).toBe('The database is unavailable for a moment; retry shortly.');
      expect((await fetch(url.replace('/graphql', '/ready'))).status).toBe(503);
      expect((await fetch(url.replace('/graphql', '/health'))).status).toBe(200);
    } finally {
      await proxy.restore();
    }
    expect(await askUntilAnswered(url)).toMatchObject({ status: 200, body: { data: { tickets: { totalCount: 0 } } } });
    // Ready again once every dependency answers (Redis, cut by the test before, may still be in its reconnect backoff).
    await expect.poll(async () => (await fetch(url.replace('/graphql', '/ready'))).status, { timeout: 15_000, interval: 250 }).toBe(200);
    expect(main.child.exitCode, main.output()).toBeNull();
  });

  it('keeps answering queries while Redis is lost, refuses voice turns clearly (503), says so on /ready, and recovers', async () => {
    const turn = async () => {
      const r = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: 'mutation { voiceTurn(input: { text: "How many open tickets do we have?" }) { id status } }' }),
        signal: AbortSignal.timeout(15_000),
      });
      return { status: r.status, body: (await r.json()) as any };
    };
    const ready = () => fetch(url.replace('/graphql', '/ready')).then(async (r) => ({ status: r.status, body: (await r.json()) as any }));
    await expect.poll(async () => (await ready()).status, { timeout: 15_000, interval: 250 }).toBe(200);
    const first = await turn();
    expect(first.body.data?.voiceTurn?.status, JSON.stringify(first.body)).toBe('RUNNING');
    await redisProxy.refuse();
    try {
      // Queries need only PostgreSQL: they go on.
      expect(await ask(url)).toMatchObject({ status: 200, body: { data: { tickets: { totalCount: 0 } } } });
      // The voice limits hold across instances, in Redis: without it a turn is refused, saying to retry, not hung.
      const refused = await turn();
      expect(refused.body.errors?.[0].extensions).toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
      expect(refused.body.errors[0].message).toMatch(/retry/i);
      expect(await ready()).toMatchObject({ status: 503, body: { checks: { database: 'ok', redis: 'unavailable' } } });
    } finally {
      await redisProxy.restore();
    }
    await expect.poll(async () => (await ready()).status, { timeout: 15_000, interval: 250 }).toBe(200);
    await expect.poll(async () => (await turn()).body.data?.voiceTurn?.status, { timeout: 15_000, interval: 250 }).toBe('RUNNING');
    expect(main.child.exitCode, main.output()).toBeNull();
  });

  it('keeps the process up when connections are cut under load', async () => {
    const load = Array.from({ length: 40 }, () => ask(url));
    setTimeout(() => proxy.cut(), 5);
    const answers = await Promise.all(load);
    // Each request got an answer, an error or a closed socket, but no request hangs and the process lives on.
    for (const answer of answers) if ('status' in answer) expect(answer.status).toBeLessThan(600);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(main.child.exitCode, main.output()).toBeNull();
    expect(await askUntilAnswered(url)).toMatchObject({ status: 200, body: { data: { tickets: { totalCount: 0 } } } });
  });
});
