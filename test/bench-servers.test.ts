// The benchmark's servers run from bundles built with the production build's settings (bench/bundle.ts), started by
// plain node as the image starts dist/main.js. The bundle of bench/server.ts must start on an embedded database, answer
// GraphQL over HTTP, serve GraphiQL with its example tabs (files found beside the sources, as under tsx) and report
// its stats over IPC.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BUNDLE_DIR } from '../bench/bundle';
import { type ServerProcess, spawnBenchServer } from '../bench/server-process';
import { createDatabase } from '../src/db/client';
import { migrateDatabase } from '../src/db/migrate';

describe('benchmark servers', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'udc-bench-server-'));
  let server: ServerProcess | undefined;
  afterAll(async () => {
    await server?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('runs bench/server.ts from its bundle, without tsx', async () => {
    const database = await createDatabase({ dataDir });
    await migrateDatabase(database);
    await database.close();
    server = await spawnBenchServer(['--data-dir', dataDir]);
    const args = server.child.spawnargs;
    expect(args).toContain(join(BUNDLE_DIR, 'server.mjs'));
    expect(args.join(' ')).not.toMatch(/tsx/);
    const response = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ customers(first: 1) { totalCount } }' }),
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ data: { customers: { totalCount: 0 } } });
    const page = await fetch(server.url, { headers: { accept: 'text/html' } });
    expect(page.status).toBe(200);
    // A tab read from examples/04-metric-summary.graphql (GraphiQL falls back to one built-in tab without the folder).
    expect(await page.text()).toContain('MetricOverview');
    const stats = await server.stats();
    expect(stats.cpuMicros).toBeGreaterThan(0);
    expect(stats.rss).toBeGreaterThan(0);
  }, 120_000);
});
