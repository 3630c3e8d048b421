// The production build as the image runs it: `npm run build` into a temporary folder laid out like the Dockerfile's
// runtime stage (dist/, migrations/, data/, package.json, node_modules), then the built entry points run by plain
// node with nothing of the repository on hand: the migration CLI, the demo seeder, and the server itself (PGlite in a
// temporary DATA_DIR), which must find migrations/ and data/ from dist/, answer /health, /ready and /graphql, and exit
// 0 on SIGTERM. Skipped on the PostgreSQL run of CI: the build does not depend on the database, and it costs time.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const scripts = (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;

/** `start:prod` as argv for spawn: `node <flags> dist/main.js`, run in the folder that holds dist/. */
const startProd = scripts['start:prod'].split(/\s+/);

/** Only what a container would have: no DATABASE_URL, REDIS_URL, Groq key or NODE_OPTIONS leak in from the test run. */
const baseEnv = (dataDir: string) => ({ PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: tmpdir(), DATA_DIR: dataDir, LOG_LEVEL: 'info' });

const exitOf = (child: ChildProcess) =>
  new Promise<number | null>((resolve) => (child.exitCode !== null ? resolve(child.exitCode) : child.once('exit', (code) => resolve(code))));

describe.skipIf(!!process.env.DATABASE_URL)('the production build (npm run build, node dist/main.js)', () => {
  let app: string;

  beforeAll(async () => {
    app = mkdtempSync(join(tmpdir(), 'udc-build-'));
    const { stdout } = await run('npm', ['run', '-s', 'build', '--', '--outdir', join(app, 'dist')], { cwd: repoRoot, maxBuffer: 16 << 20 });
    expect(stdout).toMatch(/built \d+ entry points/);
    // The runtime stage of the Dockerfile: COPY package.json, migrations/, data/, examples/, dist/; node_modules from `npm ci`.
    for (const path of ['package.json', 'migrations', 'data', 'examples']) cpSync(join(repoRoot, path), join(app, path), { recursive: true });
    symlinkSync(join(repoRoot, 'node_modules'), join(app, 'node_modules'), 'dir');
  }, 180_000);

  afterAll(() => {
    if (app) rmSync(app, { recursive: true, force: true });
  });

  it('builds ES modules that import their packages rather than bundling them', () => {
    const main = readFileSync(join(app, 'dist', 'main.js'), 'utf8');
    expect(main).toMatch(/^import .* from "graphql-yoga";$/m);
    expect(main).not.toMatch(/\brequire\(/);
    expect(startProd.slice(0, 1)).toEqual(['node']);
    expect(startProd.at(-1)).toBe('dist/main.js');
  });

  it('runs the migration CLI and the demo seeder from dist/ (they find migrations/ and data/), once', async () => {
    const dataDir = join(app, 'pglite-cli');
    const env = baseEnv(dataDir);
    const migrated = await run(process.execPath, ['dist/db/migrate-cli.js'], { cwd: app, env });
    expect(migrated.stdout).toMatch(/migrations applied \(pglite\)/);
    const seeded = await run(process.execPath, ['dist/seed-demo.js', '--tenant', 'default'], { cwd: app, env });
    expect(seeded.stdout).toMatch(/imported the demo data for tenant "default".*support_tickets\.json 600/);
    const again = await run(process.execPath, ['dist/seed-demo.js', '--tenant', 'default'], { cwd: app, env });
    expect(again.stdout).toMatch(/already holds data: demo import skipped/);
  }, 120_000);

  it('serves /health, /ready and /graphql from node dist/main.js on a fresh PGlite, and exits 0 on SIGTERM', async () => {
    const tickets = (JSON.parse(readFileSync(join(repoRoot, 'data', 'support_tickets.json'), 'utf8')) as unknown[]).length;
    const child = spawn(startProd[0] === 'node' ? process.execPath : startProd[0], startProd.slice(1), {
      cwd: app,
      env: { ...baseEnv(join(app, 'pglite-server')), PORT: '0', HOST: '127.0.0.1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    try {
      const url = await new Promise<string>((resolve, reject) => {
        const onData = (chunk: Buffer) => {
          output += chunk.toString();
          const match = output.match(/GraphiQL: (http:\/\/\S+)/);
          if (match) resolve(match[1]);
        };
        child.stdout.on('data', onData);
        child.stderr.on('data', onData);
        child.once('exit', (code) => reject(new Error(`node dist/main.js exited with ${code}:\n${output}`)));
      });
      expect(output).toMatch(/"msg":"imported demo data"/);

      const health = await fetch(url.replace('/graphql', '/health'));
      expect(health.status).toBe(200);
      expect(await health.json()).toEqual({ status: 'ok' });
      const ready = await fetch(url.replace('/graphql', '/ready'));
      expect(ready.status).toBe(200);
      expect(await ready.json()).toMatchObject({ status: 'ready', database: 'pglite' });

      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: '{ tickets { totalCount } }' }),
      });
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ data: { tickets: { totalCount: tickets } } });
      // GraphiQL's page and its files, the examples it opens on, and the voice page, all from the built server.
      const page = await (await fetch(url, { headers: { accept: 'text/html' } })).text();
      expect(page).toContain('OpenHighPriorityTickets');
      expect(output).not.toMatch(/no examples found/);
      expect((await fetch(url.replace('/graphql', '/voice'))).status).toBe(200);

      child.kill('SIGTERM');
      expect(await exitOf(child)).toBe(0);
      expect(output).toMatch(/shutting down.*SIGTERM/);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  }, 120_000);
});
