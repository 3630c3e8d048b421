// `npm run bench [-- --quick] [-- --sizes 50,100000] [-- --keep]`: query throughput and latency against the
// raw-SQL floor, cost versus data size, the voice pipeline and concurrent subscribers. Writes
// bench/results/<date>.json and bench/results/latest.md. See bench/README.md for each method.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { parseArgs } from 'node:util';
import { BENCH_AUTHORIZATION, BENCH_AUTH_SECRET } from './auth';
import { ANCHOR, type BenchDatabase, prepareDatabase, size } from './dataset';
import { type FloorResult, captureStatements, openBenchDatabase, runFloor } from './floor';
import { type LoadResult, runLoad } from './load';
import { type Operation, dig, operations, requestBody } from './operations';
import { renderMarkdown } from './report';
import { type ServerProcess, spawnBenchServer } from './server-process';
import { type SubscriberResult, runSubscriberBench } from './subscribers';
import { type VoiceResult, runVoiceBench } from './voice';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    sizes: { type: 'string' },
    seconds: { type: 'string' },
    subscribers: { type: 'string' },
    keep: { type: 'boolean', default: false },
    // Use udc_bench_<size> databases left by --keep when their row counts match (PostgreSQL only).
    reuse: { type: 'boolean', default: false },
    // Re-render bench/results/latest.md from a results file (after a change to the report's layout).
    render: { type: 'string' },
    skip: { type: 'string', default: '' },
    // Query benchmarks run with authentication on (a bearer token verified per request); this turns it off.
    'no-auth': { type: 'boolean', default: false },
  },
});
const withAuth = !values['no-auth'];
const authHeaders: Record<string, string> = withAuth ? { authorization: BENCH_AUTHORIZATION } : {};
const quick = values.quick;
const skip = new Set(values.skip.split(',').filter(Boolean));
const ticketSizes = values.sizes ? values.sizes.split(',').map(Number) : quick ? [50, 5000] : [50, 100_000, 1_000_000];
const seconds = Number(values.seconds ?? (quick ? 2 : 10));
const warmupSeconds = quick ? 1 : 3;
const singleSeconds = quick ? 1 : 3;
const CONNECTIONS = 32;
const subscriberCounts = values.subscribers ? values.subscribers.split(',').map(Number) : quick ? [1000] : [1000, 5000, 10_000];
const adminUrl = process.env.DATABASE_URL || undefined;

const log = (line: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
const label = (n: number) => (n >= 1_000_000 ? `${n / 1_000_000}m` : n >= 1000 ? `${n / 1000}k` : String(n));

export interface OperationResult {
  id: Operation['id'];
  label: string;
  filteredConnection: boolean;
  totalCount: number | null;
  truth: number | null;
  exact: boolean;
  statementsPerOp: number;
  api: LoadResult & { serverCpuMicrosPerRequest: number };
  /** One connection, one request at a time (uncached): the cost of a request without queueing behind others. */
  single?: LoadResult;
  cached: (LoadResult & { hitRate: number; serverCpuMicrosPerRequest: number }) | null;
  floor: FloorResult;
}

export interface SizeResult {
  tickets: number;
  customers: number;
  metricDays: number;
  importSeconds: number | null;
  operations: OperationResult[];
}

export interface BenchResults {
  startedAt: string;
  finishedAt: string;
  mode: 'quick' | 'full';
  command: string;
  /** Whether the query benchmarks' server verified a bearer token on every request. */
  auth: boolean;
  machine: { cpus: number; cpuModel: string; memoryGiB: number; node: string; loadAverageAtStart: number[]; loadAverageAtEnd: number[] };
  database: { kind: 'postgres' | 'pglite'; version: string };
  connections: number;
  seconds: number;
  sizes: SizeResult[];
  voice: VoiceResult | { skipped: string };
  subscribers: SubscriberResult[] | { skipped: string };
}

function startServer(bench: BenchDatabase, cache: boolean): Promise<ServerProcess> {
  return spawnBenchServer([
    ...(bench.url ? ['--url', bench.url] : ['--data-dir', bench.dataDir!]),
    ...(cache ? ['--cache'] : []),
    ...(withAuth ? ['--auth-secret', BENCH_AUTH_SECRET] : []),
  ]);
}

async function databaseVersion(): Promise<string> {
  if (!adminUrl) {
    // Starting an instance only to ask costs seconds; the package version names the embedded PostgreSQL build.
    const pkg = JSON.parse(readFileSync('node_modules/@electric-sql/pglite/package.json', 'utf8')) as { version: string };
    return `PGlite ${pkg.version} (embedded PostgreSQL)`;
  }
  const postgres = (await import('postgres')).default;
  const sql = postgres(adminUrl, { max: 1 });
  const [row] = await sql`SELECT version() AS v`;
  await sql.end();
  return String(row.v).split(',')[0];
}

/** The first size's database, kept for the subscriber benchmark (saves a second import). */
let spareDatabase: BenchDatabase | undefined;

async function benchSize(tickets: number, keepForLater: boolean): Promise<SizeResult> {
  const s = size(tickets, label(tickets));
  log(`size ${s.label}: ${s.tickets} tickets, ${s.customers} customers, ${s.days} days of metrics: generating and importing`);
  const bench = await prepareDatabase(s, adminUrl, log, { reuse: values.reuse });
  if (bench.importSeconds !== null) log(`size ${s.label}: loaded in ${bench.importSeconds.toFixed(1)} s`);
  try {
    const ops = operations(ANCHOR);
    const captures = await captureStatements(bench, ops);
    const database = await openBenchDatabase(bench);
    const truths = new Map<string, number>();
    try {
      for (const op of ops) if (op.total) truths.set(op.id, Number((await database.rows<{ n: number }>(op.total.truth))[0].n));
    } finally {
      await database.close();
    }
    const floors = new Map<string, FloorResult>();
    for (const op of ops) {
      const capture = captures.get(op.id)!;
      if (capture.response.errors?.length) throw new Error(`${op.id} answered with errors: ${JSON.stringify(capture.response.errors)}`);
      floors.set(op.id, await runFloor(bench, capture.statements, { concurrency: CONNECTIONS, seconds, warmupSeconds }));
      log(`size ${s.label} ${op.id}: floor ${floors.get(op.id)!.opsPerSecond.toFixed(0)} ops/s (${capture.statements.length} statements)`);
    }
    const api = new Map<string, OperationResult['api']>();
    const cached = new Map<string, NonNullable<OperationResult['cached']>>();
    const single = new Map<string, LoadResult>();
    for (const withCache of [false, true]) {
      if (withCache && skip.has('cache')) continue;
      const server = await startServer(bench, withCache);
      try {
        // A fresh server compiles its hot paths in its first seconds under load: warm it on every operation before
        // timing any, so that the first operation timed is not charged with that (it used to read 2x slower).
        for (const op of ops) await runLoad(server.url, requestBody(op), { connections: CONNECTIONS, seconds: warmupSeconds, warmupSeconds: 0, headers: authHeaders });
        for (const op of ops) {
          // The quick run keeps under 3 minutes by letting the server-wide pass above be each operation's warm-up.
          if (!quick) {
            const warm = await runLoad(server.url, requestBody(op), { connections: CONNECTIONS, seconds: warmupSeconds, warmupSeconds: 0, headers: authHeaders });
            if (warm.non2xx || warm.errors) log(`size ${s.label} ${op.id}: ${warm.non2xx} non-2xx answers and ${warm.errors} errors in warm-up`);
          }
          const before = await server.stats();
          const load = await runLoad(server.url, requestBody(op), { connections: CONNECTIONS, seconds, warmupSeconds: 0, headers: authHeaders });
          const after = await server.stats();
          const result = { ...load, serverCpuMicrosPerRequest: (after.cpuMicros - before.cpuMicros) / Math.max(1, load.requests) };
          if (withCache && before.cache && after.cache) {
            const hits = after.cache.hits - before.cache.hits;
            const total = hits + after.cache.misses - before.cache.misses;
            cached.set(op.id, { ...result, hitRate: total ? hits / total : 0 });
          } else {
            api.set(op.id, result);
            single.set(op.id, await runLoad(server.url, requestBody(op), { connections: 1, seconds: singleSeconds, warmupSeconds: 0, headers: authHeaders }));
          }
          log(`size ${s.label} ${op.id}: ${withCache ? 'cached' : 'api'} ${result.requestsPerSecond.toFixed(0)} req/s p50 ${result.p50.toFixed(2)} ms`);
        }
      } finally {
        await server.stop();
      }
    }
    return {
      tickets: s.tickets,
      customers: s.customers,
      metricDays: s.days,
      importSeconds: bench.importSeconds,
      operations: ops.map((op) => {
        const capture = captures.get(op.id)!;
        const totalCount = op.total ? (dig(capture.response.data, op.total.path) as number) : null;
        const truth = truths.get(op.id) ?? null;
        return {
          id: op.id,
          label: op.label,
          filteredConnection: op.filteredConnection,
          totalCount,
          truth,
          exact: totalCount === truth,
          statementsPerOp: capture.statements.length,
          api: api.get(op.id)!,
          single: single.get(op.id),
          cached: cached.get(op.id) ?? null,
          floor: floors.get(op.id)!,
        };
      }),
    };
  } finally {
    if (values.keep) log(`size ${s.label}: kept ${bench.url ?? bench.dataDir}`);
    else if (keepForLater) spareDatabase = bench;
    else await bench.drop();
  }
}

async function main() {
  if (values.render) {
    const markdown = renderMarkdown(JSON.parse(readFileSync(values.render, 'utf8')) as BenchResults);
    writeFileSync('bench/results/latest.md', markdown);
    process.stdout.write(markdown);
    return;
  }
  const startedAt = new Date();
  const results: BenchResults = {
    startedAt: startedAt.toISOString(),
    finishedAt: '',
    mode: quick ? 'quick' : 'full',
    auth: withAuth,
    command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}${adminUrl ? ' (DATABASE_URL set)' : ''}`,
    machine: {
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? 'unknown',
      memoryGiB: Math.round(totalmem() / 2 ** 30),
      node: process.version,
      loadAverageAtStart: loadavg().map((n) => Number(n.toFixed(2))),
      loadAverageAtEnd: [],
    },
    database: { kind: adminUrl ? 'postgres' : 'pglite', version: await databaseVersion() },
    connections: CONNECTIONS,
    seconds,
    sizes: [],
    voice: { skipped: 'not run' },
    subscribers: { skipped: 'not run' },
  };
  log(`${results.mode} run on ${results.machine.cpus} cores, ${results.database.version}; load average ${results.machine.loadAverageAtStart.join(' ')}`);
  if (!skip.has('data')) {
    for (const [i, tickets] of ticketSizes.entries()) results.sizes.push(await benchSize(tickets, i === 0 && !skip.has('subscribers')));
  }
  if (!skip.has('voice')) {
    log('voice pipeline');
    results.voice = await runVoiceBench({ quick, log });
  }
  if (!skip.has('subscribers')) {
    log('subscribers');
    results.subscribers = await runSubscriberBench({ counts: subscriberCounts, log, database: spareDatabase });
  }
  await spareDatabase?.drop();
  results.machine.loadAverageAtEnd = loadavg().map((n) => Number(n.toFixed(2)));
  results.finishedAt = new Date().toISOString();
  mkdirSync('bench/results', { recursive: true });
  const file = `bench/results/${startedAt.toISOString().slice(0, 19).replace(/:/g, '-')}${quick ? '-quick' : ''}.json`;
  writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
  const markdown = renderMarkdown(results);
  writeFileSync('bench/results/latest.md', markdown);
  process.stdout.write(`${markdown}\nwrote ${file} and bench/results/latest.md\n`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
