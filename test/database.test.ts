// The PostgreSQL client: drizzle's statements run as named prepared statements unless turned off
// (DATABASE_PREPARED_STATEMENTS=false), and answers are the same either way. PostgreSQL only (PGlite has no pool).
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConnectors } from '../src/connectors';
import { createDatabase } from '../src/db/client';
import { importDirectory } from '../src/db/import';
import { type TestDatabase, createTestDatabase, usingPostgres } from './helpers/database';
import { generatedDataDir } from './helpers/server';

describe.skipIf(!usingPostgres)('prepared statements (postgres)', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase();
    await importDirectory(database, await generatedDataDir({ customers: 10, tickets: 40, days: 5, seed: 4, anchorDate: '2026-11-24' }));
  });
  afterAll(() => database?.close());

  for (const preparedStatements of [true, false]) {
    it(`${preparedStatements ? 'prepares' : 'does not prepare'} drizzle's statements when preparedStatements is ${preparedStatements}`, async () => {
      // One connection, so the session that ran the queries is the one asked about its prepared statements.
      const client = await createDatabase({ url: database.url, maxConnections: 1, preparedStatements });
      try {
        const tickets = createConnectors(client).tickets;
        const filter = { status: 'open' as const };
        const page = await tickets.list('default', { filter, order: 'PRIORITY', page: { first: 5 } });
        const summary = await tickets.summarize('default', filter);
        const [truth] = await database.rows<{ n: number }>(sql`SELECT count(*)::int AS n FROM tickets WHERE status = 'open'`);
        expect(summary.total).toBe(truth.n);
        expect(page.edges).toHaveLength(Math.min(5, truth.n));
        // Statements whose ids travel as one array parameter (= ANY($n::int[])), in either mode.
        const ids = [1, 2, 3];
        const perCustomer = await database.rows<{ customer_id: number; n: number }>(
          sql`SELECT customer_id, count(*)::int AS n FROM tickets WHERE customer_id IN (1, 2, 3) GROUP BY 1`,
        );
        const pages = await tickets.listForCustomers('default', ids, { filter: {}, order: 'PRIORITY', page: { first: 2 } });
        const counts = await tickets.summarizeForCustomers('default', ids, {});
        for (const id of ids) {
          const n = perCustomer.find((row) => row.customer_id === id)?.n ?? 0;
          expect(counts.get(id)!.total).toBe(n);
          expect(pages.get(id)!.edges.map((edge) => edge.node.customerId)).toEqual(Array(Math.min(2, n)).fill(id));
        }
        expect((await createConnectors(client).customers.byIds('default', ids)).map((c) => c.customerId).sort()).toEqual(ids);
        // A batch of one id takes its own statement (equality rather than = ANY).
        expect((await createConnectors(client).customers.byIds('default', [2])).map((c) => c.customerId)).toEqual([2]);
        // postgres.js prepares its own start-up query for array types; the rest are ours.
        const [prepared] = await client.rows<{ n: number }>(
          sql`SELECT count(*)::int AS n FROM pg_prepared_statements
            WHERE statement NOT LIKE '%pg_prepared_statements%' AND statement NOT LIKE '%pg_catalog.pg_type%'`,
        );
        if (preparedStatements) expect(prepared.n).toBeGreaterThanOrEqual(2);
        else expect(prepared.n).toBe(0);
      } finally {
        await client.close();
      }
    });
  }
});
