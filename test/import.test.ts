// The importer and generator: seed files in, exact counts out; bad input writes nothing; re-imports change nothing.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { sql } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import { generateDataset } from '../src/db/generate';
import { ImportError, importDirectory } from '../src/db/import';
import { createTestDatabase, databaseKind, usingPostgres } from './helpers/database';
import { type TestServer, generatedDataDir, startTestServer } from './helpers/server';
import { instant, readDataset } from './helpers/truth';

const run = promisify(execFile);
const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const seedDir = fileURLToPath(new URL('../../shared/seed-data', import.meta.url));
const hasSeed = existsSync(join(seedDir, 'customers.json'));

let server: TestServer | undefined;
afterEach(async () => {
  await server?.stop();
  server = undefined;
});

const COUNTS = '{ customers { totalCount } tickets { totalCount } open: tickets(filter: { status: OPEN }) { totalCount } metrics { totalCount } }';

async function counts(s: TestServer) {
  const r = await s.query(COUNTS);
  expect(r.errors).toBeUndefined();
  return { customers: r.data.customers.totalCount, tickets: r.data.tickets.totalCount, open: r.data.open.totalCount, metrics: r.data.metrics.totalCount };
}

function tempDir(files: Record<string, unknown>): string {
  const dir = mkdtempSync(join(tmpdir(), 'udc-import-'));
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), typeof content === 'string' ? content : JSON.stringify(content));
  return dir;
}

const customer = (id: number, extra: object = {}) => ({ customer_id: id, name: `C${id}`, email: `c${id}@example.com`, created_at: '2026-01-02T03:04:05', status: 'active', ...extra });
const ticket = (id: number, customerId: number, extra: object = {}) => ({ ticket_id: id, customer_id: customerId, subject: `S${id}`, priority: 'high', created_at: '2026-02-03T04:05:06.123456', status: 'open', ...extra });

describe(`import (${databaseKind})`, () => {
  it.skipIf(!hasSeed)('imports the prototype seed files and answers from them exactly', async () => {
    const truth = readDataset(seedDir);
    server = await startTestServer({ data: seedDir });
    expect(await counts(server)).toEqual({
      customers: truth.customers.length,
      tickets: truth.tickets.length,
      open: truth.tickets.filter((t) => t.status === 'open').length,
      metrics: truth.metrics.length,
    });
    const high = truth.tickets.filter((t) => t.status === 'open' && t.priority === 'high').length;
    const r = await server.query('{ tickets(filter: { status: OPEN, priority: HIGH }, first: 100) { voiceSummary nodes { ticketId createdAt } } }');
    expect(r.data.tickets.voiceSummary).toBe(`I found ${high} open high-priority support ${high === 1 ? 'ticket' : 'tickets'}.`);
    for (const n of r.data.tickets.nodes) {
      const t = truth.tickets.find((x) => x.ticket_id === n.ticketId)!;
      // Seed times carry microseconds and no offset: stored as UTC, to the millisecond.
      expect(Math.abs(Date.parse(n.createdAt) - instant(t.created_at))).toBeLessThan(1);
    }
  });
  it.skipIf(hasSeed)('(skipped: ../shared/seed-data is not beside this checkout, so the prototype files cannot be imported)', () => {});

  it('is idempotent: a second import of the same files changes nothing, not even the freshness', async () => {
    const dir = await generatedDataDir({ customers: 20, tickets: 80, days: 20, seed: 4, anchorDate: '2026-11-24' });
    server = await startTestServer({ data: dir });
    const before = await counts(server);
    const fresh = (await server.query('{ tickets { metadata { freshAsOf } } }')).data.tickets.metadata.freshAsOf;
    const reports = await importDirectory(server.database, dir);
    expect(reports.map((r) => [r.file, r.inserted, r.updated])).toEqual([
      ['customers.json', 0, 0],
      ['support_tickets.json', 0, 0],
      ['analytics.json', 0, 0],
    ]);
    expect(await counts(server)).toEqual(before);
    expect((await server.query('{ tickets { metadata { freshAsOf } } }')).data.tickets.metadata.freshAsOf).toBe(fresh);
  });

  it('updates changed records in place and the counts follow', async () => {
    server = await startTestServer({ data: tempDir({ 'customers.json': [customer(1), customer(2)], 'support_tickets.json': [ticket(1, 1), ticket(2, 2)] }) });
    const reports = await importDirectory(server.database, tempDir({ 'support_tickets.json': [ticket(2, 2, { status: 'closed' }), ticket(3, 1)] }));
    expect(reports[0]).toMatchObject({ file: 'support_tickets.json', records: 2, inserted: 1, updated: 1 });
    expect(await counts(server)).toMatchObject({ customers: 2, tickets: 3, open: 2 });
  });

  it('rejects a bad record by file, index and field, and writes nothing of that import', async () => {
    server = await startTestServer({ data: { customers: 10, tickets: 30, days: 10, seed: 2, anchorDate: '2026-11-24' } });
    const before = await counts(server);
    const bad = tempDir({
      'customers.json': [customer(500), customer(501)],
      'support_tickets.json': [ticket(900, 500), ticket(901, 500), ticket(902, 501), ticket(903, 500, { priority: 'urgent' }), ticket(904, 500, { created_at: 'yesterday' })],
      'analytics.json': [{ metric: 'x', date: '2026-01-01', value: 1 }],
    });
    const error = await importDirectory(server.database, bad).catch((e) => e);
    expect(error).toBeInstanceOf(ImportError);
    expect(error.message).toContain('nothing was written');
    expect(error.message).toContain('support_tickets.json[3].priority');
    expect(error.message).toContain('support_tickets.json[4].created_at: must be an ISO 8601 date-time');
    expect(await counts(server)).toEqual(before);
    const none = await server.query('{ customer(customerId: 500) { name } }');
    expect(none.data.customer).toBeNull();
  });

  it('names a ticket whose customer does not exist', async () => {
    server = await startTestServer({ data: tempDir({ 'customers.json': [customer(1)] }) });
    const error = await importDirectory(server.database, tempDir({ 'support_tickets.json': [ticket(1, 1), ticket(2, 77)] })).catch((e) => e);
    expect(error.message).toContain('support_tickets.json[1].customer_id: customer 77 does not exist');
    expect((await counts(server)).tickets).toBe(0);
  });

  it('reports malformed JSON and files that are not arrays', async () => {
    server = await startTestServer();
    const broken = await importDirectory(server.database, tempDir({ 'customers.json': '[{"customer_id": 1, "name": "A",' })).catch((e) => e);
    expect(broken.message).toMatch(/customers\.json: the file ends before the closing \]/);
    const object = await importDirectory(server.database, tempDir({ 'customers.json': '{"customers": []}' })).catch((e) => e);
    expect(object.message).toMatch(/customers\.json: the file must hold a JSON array/);
    const syntax = await importDirectory(server.database, tempDir({ 'customers.json': '[{"customer_id": 1}, {nope}]' })).catch((e) => e);
    expect(syntax.message).toMatch(/customers\.json\[1\]: not valid JSON/);
    const empty = await importDirectory(server.database, tempDir({ 'other.json': [] })).catch((e) => e);
    expect(empty.message).toMatch(/none of customers\.json, support_tickets\.json, analytics\.json found/);
  });

  it('--replace swaps the tenant data for the new files, counts exact', async () => {
    server = await startTestServer({ data: { customers: 15, tickets: 60, days: 10, seed: 8, anchorDate: '2026-11-24' } });
    await importDirectory(server.database, tempDir({ 'customers.json': [customer(1), customer(2, { status: 'inactive' })], 'support_tickets.json': [ticket(7, 2)] }), { replace: true });
    expect(await counts(server)).toMatchObject({ customers: 2, tickets: 1, open: 1 });
    const r = await server.query('{ customers { voiceSummary } }');
    expect(r.data.customers.voiceSummary).toBe('I found 2 customers. 1 is active.');
  });

  it('analyses the tables it wrote, so the planner has statistics right after an import (autovacuum may be off)', async () => {
    const database = await createTestDatabase();
    try {
      const dir = await generatedDataDir({ customers: 40, tickets: 200, days: 30, seed: 3, anchorDate: '2026-11-24' });
      const tables = ['customers', 'tickets', 'metric_points', 'ticket_counts', 'customer_counts', 'data_changes'];
      // pg_class.reltuples is -1 until a table was first analysed (or vacuumed); pg_stats holds ANALYZE's column statistics.
      const stats = async () =>
        database.rows<{ table: string; reltuples: number; columns: number }>(sql`SELECT c.relname AS table, c.reltuples::float8 AS reltuples,
          (SELECT count(*)::int FROM pg_stats s WHERE s.schemaname = 'public' AND s.tablename = c.relname) AS columns
          FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace AND c.relname IN (${sql.join(tables.map((t) => sql`${t}`), sql`, `)}) ORDER BY 1`);
      await importDirectory(database, dir, { analyze: false });
      expect((await stats()).filter((r) => r.columns > 0)).toEqual([]);
      await importDirectory(database, dir);
      const after = await stats();
      expect(after.map((r) => r.table)).toEqual([...tables].sort());
      expect(after.filter((r) => r.columns === 0 || r.reltuples <= 0)).toEqual([]);
      const [tickets] = await database.rows<{ n: number }>(sql`SELECT reltuples::int AS n FROM pg_class WHERE oid = 'tickets'::regclass`);
      expect(tickets.n).toBe(200);
      // The tables the triggers rewrite on every batch are vacuumed too (dead rows, visibility map for index-only scans).
      const vacuumed = await database.rows<{ table: string }>(
        sql`SELECT relname AS table FROM pg_stat_user_tables WHERE last_vacuum IS NOT NULL AND relname IN ('ticket_counts', 'customer_counts', 'data_changes') ORDER BY 1`,
      );
      expect(vacuumed.map((r) => r.table)).toEqual(['customer_counts', 'data_changes', 'ticket_counts']);
    } finally {
      await database.close();
    }
  });

  it('keeps exact counts through direct SQL writes (rollups maintained by triggers)', async () => {
    server = await startTestServer({ data: { customers: 30, tickets: 300, days: 60, seed: 12, anchorDate: '2026-11-24' } });
    await server.database.rows(sql`UPDATE tickets SET status = 'closed' WHERE ticket_id % 3 = 0`);
    await server.database.rows(sql`UPDATE tickets SET created_at = created_at - interval '5 days', priority = 'low' WHERE ticket_id % 7 = 0`);
    await server.database.rows(sql`DELETE FROM tickets WHERE ticket_id % 11 = 0`);
    await server.database.rows(sql`UPDATE customers SET status = 'inactive' WHERE customer_id % 4 = 0`);
    const windows = [
      {},
      { status: 'OPEN' },
      { priority: 'LOW', createdAfter: '2026-10-10T10:10:10Z' },
      { createdAfter: '2026-10-01T05:00:00Z', createdBefore: '2026-11-15T17:00:00Z', status: 'CLOSED', priority: 'HIGH' },
    ];
    for (const filter of windows) {
      const r = await server.query('query($f: TicketFilter) { tickets(filter: $f) { totalCount } }', { f: filter });
      const f = filter as Record<string, string>;
      const [row] = await server.database.rows<{ n: number }>(sql`SELECT count(*)::int AS n FROM tickets WHERE true
        ${f.status ? sql`AND status = ${f.status.toLowerCase()}::ticket_status` : sql``}
        ${f.priority ? sql`AND priority = ${f.priority.toLowerCase()}::ticket_priority` : sql``}
        ${f.createdAfter ? sql`AND created_at >= ${f.createdAfter}::timestamptz` : sql``}
        ${f.createdBefore ? sql`AND created_at < ${f.createdBefore}::timestamptz` : sql``}`);
      expect(r.data.tickets.totalCount).toBe(row.n);
    }
    const [active] = await server.database.rows<{ n: number }>(sql`SELECT count(*)::int AS n FROM customers WHERE status = 'active'`);
    const r = await server.query('{ customers(filter: { status: ACTIVE }) { totalCount } }');
    expect(r.data.customers.totalCount).toBe(active.n);
  });
});

describe('generator', () => {
  it('is deterministic for a seed and anchor date, and different for another seed', async () => {
    const options = { customers: 12, tickets: 40, days: 9, anchorDate: '2026-06-30' };
    const a = mkdtempSync(join(tmpdir(), 'udc-gen-'));
    const b = mkdtempSync(join(tmpdir(), 'udc-gen-'));
    const c = mkdtempSync(join(tmpdir(), 'udc-gen-'));
    await generateDataset({ ...options, seed: 5, outDir: a });
    await generateDataset({ ...options, seed: 5, outDir: b });
    await generateDataset({ ...options, seed: 6, outDir: c });
    for (const file of ['customers.json', 'support_tickets.json', 'analytics.json']) {
      expect(readFileSync(join(a, file), 'utf8')).toBe(readFileSync(join(b, file), 'utf8'));
      expect(readFileSync(join(a, file), 'utf8')).not.toBe(readFileSync(join(c, file), 'utf8'));
    }
    const data = readDataset(a);
    expect(data.customers).toHaveLength(12);
    expect(data.tickets).toHaveLength(40);
    expect(new Set(data.metrics.map((m) => m.metric)).size).toBeGreaterThanOrEqual(3);
    expect(data.metrics.filter((m) => m.metric === 'revenue')).toHaveLength(9);
    expect(data.metrics.every((m) => m.date <= '2026-06-30' && m.date >= '2026-06-22')).toBe(true);
    expect(data.tickets.every((t) => instant(t.created_at) < Date.parse('2026-07-01T00:00:00Z'))).toBe(true);
    expect(new Set(data.tickets.map((t) => t.status))).toEqual(new Set(['open', 'closed']));
    expect(new Set(data.tickets.map((t) => t.priority))).toEqual(new Set(['high', 'medium', 'low']));
  });

  it('never generates the future by default (the anchor defaults to yesterday)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'udc-gen-'));
    const manifest = await generateDataset({ customers: 10, tickets: 60, days: 9, outDir: dir });
    const data = readDataset(dir);
    const now = Date.now();
    expect(manifest.anchorDate < new Date(now).toISOString().slice(0, 10)).toBe(true);
    expect(data.tickets.every((t) => instant(t.created_at) <= now)).toBe(true);
    expect(data.customers.every((c) => instant(c.created_at) <= now)).toBe(true);
  });

  it('ships demo data in data/ whose dates are moved to today on import', () => {
    const manifest = JSON.parse(readFileSync(join(repoRoot, 'data', 'manifest.json'), 'utf8'));
    expect(manifest.anchorDate).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    const demo = readDataset(join(repoRoot, 'data'));
    expect(demo.tickets.length).toBe(manifest.tickets);
  });
});

describe.skipIf(usingPostgres)('data commands (embedded database)', () => {
  it('npm run data:import imports into DATA_DIR with progress on stderr, and fails cleanly on bad input', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'udc-pglite-'));
    const dir = await generatedDataDir({ customers: 5, tickets: 12, days: 3, seed: 1, anchorDate: '2026-11-24' });
    const env = { ...process.env, DATA_DIR: dataDir, DATABASE_URL: '' };
    const ok = await run('npx', ['tsx', 'src/db/import-cli.ts', dir, '--tenant', 'acme'], { cwd: repoRoot, env });
    expect(ok.stdout).toContain('support_tickets.json: 12 records (12 new, 0 updated, 0 unchanged)');
    expect(ok.stdout).toContain('for tenant "acme"');
    expect(ok.stderr).toContain('support_tickets.json: 12 records read');
    const bad = await run('npx', ['tsx', 'src/db/import-cli.ts', tempDir({ 'customers.json': [customer(1, { status: 'gone' })] })], { cwd: repoRoot, env }).catch((e) => e);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('customers.json[0].status');
    expect(bad.stderr).not.toMatch(/\n\s+at /);
  });
});
