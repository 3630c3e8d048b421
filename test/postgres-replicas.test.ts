// Several instances on one PostgreSQL database: migrations (ours and the agent memory's) run once under an advisory
// lock however many replicas start together; each instance keeps to its connection budget (DATABASE_POOL_SIZE,
// AGENT_MEMORY_POOL_SIZE); a database that does not answer fails a connection after DATABASE_CONNECT_TIMEOUT_S.
import { readFileSync } from 'node:fs';
import { type Server, type Socket, createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import postgres from 'postgres';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config';
import { createDatabase } from '../src/db/client';
import { migrateDatabase } from '../src/db/migrate';
import { emptyPostgresDatabase, usingPostgres } from './helpers/database';
import { type MainProcess, exitOf, repoRoot, startMain } from './helpers/main';

const journal = JSON.parse(readFileSync(join(repoRoot, 'migrations', 'meta', '_journal.json'), 'utf8')) as { entries: unknown[] };

const emptyDatabase = emptyPostgresDatabase;

/** Counts the connections to `name` per application_name every few milliseconds, keeping the highest count seen. */
function watchConnections(adminUrl: string, name: string) {
  const observer = postgres(adminUrl, { max: 1, onnotice: () => {}, connection: { application_name: 'udc-test-observer' } });
  const most = new Map<string, number>();
  let running = true;
  const done = (async () => {
    while (running) {
      const rows = await observer<{ app: string; n: number }[]>`
        SELECT application_name AS app, count(*)::int AS n FROM pg_stat_activity WHERE datname = ${name} GROUP BY 1`;
      for (const { app, n } of rows) most.set(app, Math.max(most.get(app) ?? 0, n));
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  })();
  return {
    most: (app: string) => most.get(app) ?? 0,
    stop: async () => {
      running = false;
      await done;
      await observer.end();
    },
  };
}

const post = (url: string, query: string) =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query }) }).then((r) => r.json());

async function stopAll(servers: MainProcess[]) {
  for (const s of servers) if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill('SIGTERM');
  return Promise.all(servers.map((s) => exitOf(s.child)));
}

describe('connection settings', () => {
  it('DATABASE_POOL_SIZE, AGENT_MEMORY_POOL_SIZE and DATABASE_CONNECT_TIMEOUT_S have defaults and are checked', () => {
    const config = loadConfig({});
    expect([config.DATABASE_POOL_SIZE, config.AGENT_MEMORY_POOL_SIZE, config.DATABASE_CONNECT_TIMEOUT_S]).toEqual([10, 4, 5]);
    const set = loadConfig({ DATABASE_POOL_SIZE: '3', AGENT_MEMORY_POOL_SIZE: '2', DATABASE_CONNECT_TIMEOUT_S: '1.5' });
    expect([set.DATABASE_POOL_SIZE, set.AGENT_MEMORY_POOL_SIZE, set.DATABASE_CONNECT_TIMEOUT_S]).toEqual([3, 2, 1.5]);
    expect(() => loadConfig({ DATABASE_POOL_SIZE: '0', AGENT_MEMORY_POOL_SIZE: 'many', DATABASE_CONNECT_TIMEOUT_S: '-1' })).toThrowError(
      /DATABASE_POOL_SIZE: .*\n.*AGENT_MEMORY_POOL_SIZE: .*\n.*DATABASE_CONNECT_TIMEOUT_S: /s,
    );
  });

  it('a server that accepts connections but never answers fails the query after the connect timeout', async () => {
    // Silent: accepts TCP and says nothing, as a hung or half-reachable database does.
    const sockets = new Set<Socket>();
    const silent: Server = createServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => {});
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as AddressInfo;
    const database = await createDatabase({ url: `postgres://udc@127.0.0.1:${port}/udc`, connectTimeoutSeconds: 1 });
    try {
      const error = await database.rows(sql`SELECT 1`).catch((e: unknown) => e);
      // drizzle wraps the driver's error (DrizzleQueryError, the driver's as its cause).
      expect(error).toBeInstanceOf(Error);
      expect(((error as Error).cause as { code?: string } | undefined)?.code).toBe('CONNECT_TIMEOUT');
      // Without the option: 5 s, not postgres.js's 30.
      const byDefault = await createDatabase({ url: `postgres://udc@127.0.0.1:${port}/udc` });
      expect((byDefault.sql as unknown as { options: { connect_timeout: number } }).options.connect_timeout).toBe(5);
      await byDefault.close();
    } finally {
      await database.close();
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });
});

describe.skipIf(usingPostgres)('replicas on one PostgreSQL database', () => {
  it.skip('(skipped on PGlite: replicas need a shared PostgreSQL server, so set DATABASE_URL; the embedded database serves one process, see embedded-lock.test.ts)', () => {});
});

describe.skipIf(!usingPostgres)('replicas on one PostgreSQL database', () => {
  it('three migrateDatabase calls at once on a fresh database all succeed and apply each migration once', async () => {
    const target = await emptyDatabase();
    const clients = await Promise.all([1, 2, 3].map(() => createDatabase({ url: target.url, maxConnections: 2 })));
    try {
      const results = await Promise.allSettled(clients.map((client) => migrateDatabase(client)));
      expect(results.map((r) => (r.status === 'rejected' ? String(r.reason) : 'ok'))).toEqual(['ok', 'ok', 'ok']);
      const rows = await clients[0].rows<{ n: number; hashes: number }>(
        sql`SELECT count(*)::int AS n, count(DISTINCT hash)::int AS hashes FROM drizzle.__drizzle_migrations`,
      );
      expect(rows[0]).toEqual({ n: journal.entries.length, hashes: journal.entries.length });
      // The lock is let go: a later migration (a replica restarting) goes through at once.
      await migrateDatabase(clients[1]);
    } finally {
      await Promise.all(clients.map((c) => c.close()));
      await target.drop();
    }
  });

  it('two servers started at once on a fresh database both serve; migrations and agent-memory setup run once', { timeout: 120_000 }, async () => {
    const target = await emptyDatabase();
    const servers = [startMain({ DATABASE_URL: target.url }), startMain({ DATABASE_URL: target.url })];
    try {
      const urls = await Promise.all(servers.map((s) => s.url));
      for (const url of urls) expect((await post(url, '{ tickets { totalCount } }')).data.tickets.totalCount).toBe(0);
      const check = postgres(target.url, { max: 1, onnotice: () => {} });
      try {
        const [ours] = await check<{ n: number; hashes: number }[]>`SELECT count(*)::int AS n, count(DISTINCT hash)::int AS hashes FROM drizzle.__drizzle_migrations`;
        expect(ours).toEqual({ n: journal.entries.length, hashes: journal.entries.length });
        const [memory] = await check<{ n: number; versions: number }[]>`SELECT count(*)::int AS n, count(DISTINCT v)::int AS versions FROM checkpoint_migrations`;
        expect(memory.n).toBeGreaterThan(0);
        expect(memory.n).toBe(memory.versions);
      } finally {
        await check.end();
      }
      expect(await stopAll(servers)).toEqual([0, 0]);
    } finally {
      await stopAll(servers);
      await target.drop();
    }
  });

  it('a server keeps to DATABASE_POOL_SIZE and AGENT_MEMORY_POOL_SIZE connections under concurrent load', { timeout: 120_000 }, async () => {
    const target = await emptyDatabase();
    const server = startMain({
      DATABASE_URL: target.url,
      DATABASE_POOL_SIZE: '3',
      AGENT_MEMORY_POOL_SIZE: '2',
      RESPONSE_CACHE_TTL_MS: '0',
      VOICE_TURNS_PER_MINUTE_PER_TENANT: '0',
      VOICE_TURNS_PER_MINUTE_PER_SUBJECT: '0',
      VOICE_MAX_RUNNING_TURNS_PER_TENANT: '0',
    });
    const watch = watchConnections(process.env.DATABASE_URL!, target.name);
    try {
      const url = await server.url;
      const query = '{ customers(first: 5) { totalCount } tickets(filter: { status: OPEN }) { totalCount voiceSummary } metrics { totalCount } }';
      for (let round = 0; round < 5; round++) {
        const answers = await Promise.all(Array.from({ length: 48 }, () => post(url, query)));
        for (const a of answers) expect(a.errors).toBeUndefined();
      }
      // Text voice turns on separate sessions: each one's agent memory is written through the memory pool.
      const turns = await Promise.all(
        Array.from({ length: 16 }, (_, i) => post(url, `mutation { voiceTurn(input: { text: "how many open tickets", sessionId: "pool-${i}" }) { id } }`)),
      );
      for (const t of turns) expect(t.errors).toBeUndefined();
      const check = postgres(target.url, { max: 1, onnotice: () => {} });
      try {
        for (let waited = 0; waited < 30_000; waited += 100) {
          const [{ n }] = await check<{ n: number }[]>`SELECT count(DISTINCT thread_id)::int AS n FROM checkpoints`;
          if (n >= 16) break;
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      } finally {
        await check.end();
      }
    } finally {
      await watch.stop();
      server.child.kill('SIGTERM');
      await exitOf(server.child);
      await target.drop();
    }
    const app = watch.most('universal-data-connector');
    const memory = watch.most('udc-agent-memory');
    if (process.env.DEBUG_POOLS) console.log({ app, memory });
    expect(app).toBeLessThanOrEqual(3);
    expect(memory).toBeLessThanOrEqual(2);
    // The load did reach the limits (or the test proves nothing).
    expect(app).toBeGreaterThanOrEqual(2);
    expect(memory).toBeGreaterThanOrEqual(1);
  });
});
