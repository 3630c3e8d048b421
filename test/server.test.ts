// The server as users start it: npm start's entry point (config, migrations, first-start demo import), GraphiQL,
// /health and /ready, configuration errors, and a clean stop on SIGTERM.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config';
import { createTestDatabase, usingPostgres } from './helpers/database';
import { exitOf, startMain } from './helpers/main';
import { type TestServer, startTestServer } from './helpers/server';

describe('configuration', () => {
  it('names every bad variable at once', () => {
    expect(() => loadConfig({ PORT: 'eighty', LOG_LEVEL: 'loud', DATABASE_URL: 'mysql://x' })).toThrowError(
      /PORT: .*\n.*DATABASE_URL: must start with postgres:\/\/.*\n.*LOG_LEVEL/s,
    );
    expect(loadConfig({}).PORT).toBe(4000);
    expect(loadConfig({}).VOICE_PROVIDER).toBe('local');
    expect(loadConfig({}).DATABASE_PREPARED_STATEMENTS).toBe(true);
    expect(loadConfig({ DATABASE_PREPARED_STATEMENTS: 'false' }).DATABASE_PREPARED_STATEMENTS).toBe(false);
    expect(() => loadConfig({ DATABASE_PREPARED_STATEMENTS: 'yes' })).toThrowError(/DATABASE_PREPARED_STATEMENTS: must be true or false/);
  });

  it('stops start-up with a message naming the variable', async () => {
    const { child, url, output } = startMain({ PORT: '99999' });
    url.catch(() => {});
    const code = await exitOf(child);
    expect(code).toBe(1);
    expect(output()).toMatch(/Invalid configuration:\n\s+PORT: /);
    expect(output()).not.toMatch(/\n\s+at /);
  });
});

describe.skipIf(usingPostgres)('npm start on the embedded database', () => {
  it('migrates, imports the demo data on first start, serves GraphiQL, and stops cleanly on SIGTERM', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'udc-main-'));
    const first = startMain({ DATA_DIR: dataDir, DATABASE_URL: '' });
    const url = await first.url;
    const page = await fetch(url, { headers: { accept: 'text/html' } });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('GraphiQL');
    const r = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ tickets(filter: { status: OPEN }) { totalCount } recent: metricSummary(metric: "daily_active_users", lastDays: 7) { dataPoints } }' }),
    });
    const body = await r.json();
    expect(body.data.tickets.totalCount).toBeGreaterThan(0);
    // Demo dates are moved to today on import, so "last 7 days" has data.
    expect(body.data.recent.dataPoints).toBe(7);
    first.child.kill('SIGTERM');
    expect(await exitOf(first.child)).toBe(0);
    expect(first.output()).toContain('imported demo data');

    // Second start on the same directory: no second import.
    const second = startMain({ DATA_DIR: dataDir, DATABASE_URL: '' });
    await second.url;
    second.child.kill('SIGTERM');
    expect(await exitOf(second.child)).toBe(0);
    expect(second.output()).not.toContain('imported demo data');
  });
});

describe.skipIf(!usingPostgres)('npm start on PostgreSQL', () => {
  it('migrates a fresh database but never imports on its own', async () => {
    const database = await createTestDatabase();
    try {
      const main = startMain({ DATABASE_URL: database.url! });
      const url = await main.url;
      const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ tickets { totalCount } }' }) });
      expect((await r.json()).data.tickets.totalCount).toBe(0);
      main.child.kill('SIGTERM');
      expect(await exitOf(main.child)).toBe(0);
      expect(main.output()).not.toContain('imported demo data');
    } finally {
      await database.close();
    }
  });
});

describe('health and readiness', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server?.stop());

  it('/health says the process is up and /ready that the database answers', async () => {
    const health = await fetch(`${server.baseUrl}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });
    const ready = await fetch(`${server.baseUrl}/ready`);
    expect(ready.status).toBe(200);
    expect((await ready.json()).status).toBe('ready');
  });

  it('/ready fails with 503 when the database is gone, while /health stays up', async () => {
    const other = await startTestServer();
    await other.database.close();
    try {
      expect((await fetch(`${other.baseUrl}/ready`)).status).toBe(503);
      expect((await fetch(`${other.baseUrl}/health`)).status).toBe(200);
    } finally {
      await other.app.stop();
    }
  });
});
