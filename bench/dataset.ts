// Benchmark datasets: generated with `data:generate`, loaded with `data:import` into a database of their own
// (udc_bench_<size> on the DATABASE_URL server, or an embedded PGlite directory), dropped afterwards.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import postgres from 'postgres';
import { createDatabase } from '../src/db/client';
import { migrateDatabase } from '../src/db/migrate';

export interface Size {
  label: string;
  tickets: number;
  customers: number;
  days: number;
}

/** A size's short name, as in the udc_bench_<label> databases: 50, 100k, 1m. */
export const sizeLabel = (tickets: number) => (tickets >= 1_000_000 ? `${tickets / 1_000_000}m` : tickets >= 1000 ? `${tickets / 1000}k` : String(tickets));

/** Customers one tenth of tickets, metrics for 2 years. */
export const size = (tickets: number, label: string): Size => ({ label, tickets, customers: Math.max(1, Math.round(tickets / 10)), days: 730 });

export const ANCHOR = '2026-11-24';
const SEED = 42;

export interface BenchDatabase {
  size: Size;
  kind: 'postgres' | 'pglite';
  /** postgres:// URL of this benchmark's database, when kind is postgres. */
  url?: string;
  /** PGlite data directory, when kind is pglite. */
  dataDir?: string;
  /** Seconds to load the data; null when an existing benchmark database was reused (--reuse). */
  importSeconds: number | null;
  drop(): Promise<void>;
}

/** An existing benchmark database holding exactly this size (migrated to the current schema), or false. */
async function reusable(url: string, s: Size): Promise<boolean> {
  const database = await createDatabase({ url, maxConnections: 1 });
  try {
    const [row] = await database.rows<{ t: number; c: number }>(
      sql`SELECT (SELECT count(*) FROM tickets)::int AS t, (SELECT count(*) FROM customers)::int AS c`,
    );
    if (Number(row.t) !== s.tickets || Number(row.c) !== s.customers) return false;
    await migrateDatabase(database);
    return true;
  } catch {
    return false;
  } finally {
    await database.close();
  }
}

function run(args: string[], env: Record<string, string | undefined>, log: (line: string) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let tail = '';
    const keep = (chunk: Buffer) => {
      tail = (tail + chunk.toString()).slice(-4000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code === 0) {
        log(tail.trim().split('\n').at(-1) ?? '');
        resolve();
      } else reject(new Error(`${args.join(' ')} exited ${code}:\n${tail}`));
    });
  });
}

/** Generates the dataset once into .data/bench/<label> (deterministic: reused when its manifest matches). */
async function generated(s: Size, log: (line: string) => void): Promise<string> {
  const dir = join('.data', 'bench', `data-${s.label}`);
  const manifestPath = join(dir, 'manifest.json');
  if (existsSync(manifestPath)) {
    const m = JSON.parse(readFileSync(manifestPath, 'utf8'));
    if (m.tickets === s.tickets && m.customers === s.customers && m.days === s.days && m.seed === SEED && m.anchorDate === ANCHOR) return dir;
  }
  const args = ['--customers', String(s.customers), '--tickets', String(s.tickets), '--days', String(s.days)];
  await run(['src/db/generate-cli.ts', ...args, '--out', dir, '--seed', String(SEED), '--anchor', ANCHOR], {}, log);
  return dir;
}

export async function prepareDatabase(
  s: Size,
  adminUrl: string | undefined,
  log: (line: string) => void,
  options: { reuse?: boolean; prefix?: string; vacuum?: boolean } = {},
): Promise<BenchDatabase> {
  const dir = await generated(s, log);
  const started = Date.now();
  if (adminUrl) {
    const name = `${options.prefix ?? 'udc_bench'}_${s.label}`;
    const url = new URL(adminUrl);
    url.pathname = `/${name}`;
    const drop = async () => {
      const dropper = postgres(adminUrl, { max: 1, onnotice: () => {} });
      await dropper.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await dropper.end();
    };
    if (options.reuse && (await reusable(url.toString(), s))) {
      log(`reusing ${name} (same row counts; migrated to the current schema)`);
      return { size: s, kind: 'postgres', url: url.toString(), importSeconds: null, drop };
    }
    const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
    await admin.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.unsafe(`CREATE DATABASE ${name}`);
    await admin.end();
    await run(['src/db/import-cli.ts', dir], { DATABASE_URL: url.toString(), LOG_LEVEL: 'warn' }, log);
    // The importer analyses what it wrote; VACUUM sets the visibility map (index-only scans), as autovacuum would after
    // a while in production. `--no-vacuum` measures what the import alone leaves.
    if (options.vacuum !== false) {
      const db = postgres(url.toString(), { max: 1, onnotice: () => {} });
      await db.unsafe('VACUUM ANALYZE');
      await db.end();
    }
    return {
      size: s,
      kind: 'postgres',
      url: url.toString(),
      importSeconds: (Date.now() - started) / 1000,
      drop,
    };
  }
  const dataDir = join('.data', 'bench', `pglite-${s.label}`);
  rmSync(dataDir, { recursive: true, force: true });
  await run(['src/db/import-cli.ts', dir], { DATABASE_URL: '', DATA_DIR: dataDir, LOG_LEVEL: 'warn' }, log);
  return {
    size: s,
    kind: 'pglite',
    dataDir,
    importSeconds: (Date.now() - started) / 1000,
    drop: async () => rmSync(dataDir, { recursive: true, force: true }),
  };
}

/**
 * A copy of a benchmark database on the same server (PostGraphile's own database: the same rows, indexes and planner
 * statistics). FILE_COPY copies the files (fast at a million tickets); nobody may be connected to the source meanwhile.
 */
export async function copyDatabase(bench: BenchDatabase, adminUrl: string, suffix: string): Promise<{ url: string; drop(): Promise<void> }> {
  const source = new URL(bench.url!).pathname.slice(1);
  const name = `${source}_${suffix}`;
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.unsafe(`CREATE DATABASE ${name} TEMPLATE ${source} STRATEGY FILE_COPY`);
  } finally {
    await admin.end();
  }
  const url = new URL(bench.url!);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const dropper = postgres(adminUrl, { max: 1, onnotice: () => {} });
      await dropper.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await dropper.end();
    },
  };
}
