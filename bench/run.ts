// `npm run bench [-- --quick] [-- --sizes 50,100000] [-- --keep]`: query throughput and latency against PostGraphile
// (the anchor) and the simplest-SQL floor, cost versus data size, the voice pipeline and concurrent subscribers.
// Writes bench/results/<date>.json and bench/results/latest.md. See bench/README.md for each method.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { parseArgs } from 'node:util';
import { BENCH_AUTHORIZATION, BENCH_AUTH_SECRET } from './auth';
import { ANCHOR, type BenchDatabase, copyDatabase, prepareDatabase, size, sizeLabel } from './dataset';
import { type FloorResult, captureStatements, combineFloors, openBenchDatabase, runFloor } from './floor';
import { type LoadResult, combineLoads, runLoad } from './load';
import { type Operation, dig, operations, postgraphile5Body, postgraphileBody, requestBody } from './operations';
import { type Postgraphile5, preparePostgraphile5 } from './postgraphile5';
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
    // How PostGraphile checks the token: `gate` (verified in front of it; no transaction per request, its fastest) or
    // `jwt` (its own jwtSecret: claims as settings, so BEGIN + set_config + COMMIT around every request).
    'postgraphile-auth': { type: 'string', default: 'gate' },
    // Interleaved slices per figure (ours, PostGraphile and both floors take turns; see benchSize).
    rounds: { type: 'string' },
    // Only these operations (comma-separated ids), for quick comparisons while developing.
    operations: { type: 'string' },
    // Name of the PostgreSQL benchmark databases: <prefix>_<size> (and <prefix>_<size>_postgraphile).
    'db-prefix': { type: 'string', default: 'udc_bench' },
    // Skip the VACUUM ANALYZE after the import: measures what data:import alone leaves (it analyses what it wrote).
    'no-vacuum': { type: 'boolean', default: false },
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
const rounds = Math.max(1, Number(values.rounds ?? 2));
const CONNECTIONS = 32;
const subscriberCounts = values.subscribers ? values.subscribers.split(',').map(Number) : quick ? [1000] : [1000, 5000, 10_000];
const adminUrl = process.env.DATABASE_URL || undefined;
const postgraphileAuth = withAuth ? (values['postgraphile-auth'] as 'gate' | 'jwt') : 'none';
if (!['gate', 'jwt'].includes(values['postgraphile-auth'])) throw new Error('--postgraphile-auth: gate or jwt');
const onlyOperations = values.operations ? new Set(values.operations.split(',')) : null;

const log = (line: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
/** ", PostgreSQL N µs" for a log line, when the load measured PostgreSQL's CPU. */
const postgresCpu = (load: LoadResult) => (load.cpu?.postgres == null ? '' : `, PostgreSQL ${load.cpu.postgres.toFixed(0)} µs`);

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
  /** Replay of the statements our API sent (moves with our design: a secondary reference). */
  floor: FloorResult;
  /** The simplest SQL answering the question (operations.ts `simplest`): the floor that counts. */
  simplestFloor?: FloorResult;
  /** PostGraphile v4 + connection-filter on a copy of the same database, the same question without voice fields. */
  postgraphile?: AnchorResult | null;
  /** PostGraphile v5 + connection-filter on the same copy, the same question (the faster of the two is the anchor). */
  postgraphile5?: AnchorResult | null;
}

export type AnchorResult = LoadResult & { serverCpuMicrosPerRequest: number; totalCount: number | null; exact: boolean };

export interface SizeResult {
  tickets: number;
  customers: number;
  metricDays: number;
  importSeconds: number | null;
  /** Why PostGraphile was not measured at this size (PGlite, --skip postgraphile). */
  postgraphileSkipped?: string;
  /** Why PostGraphile v5 was not measured at this size (as above, or it could not be installed: no Node 22). */
  postgraphile5Skipped?: string;
  operations: OperationResult[];
}

export interface BenchResults {
  startedAt: string;
  finishedAt: string;
  mode: 'quick' | 'full';
  command: string;
  /** Whether the query benchmarks' server verified a bearer token on every request. */
  auth: boolean;
  /** The anchor's versions and how it checked the token. */
  postgraphile?: { version: string; connectionFilter: string; auth: 'gate' | 'jwt' | 'none' };
  /** The second anchor, PostGraphile v5: its versions and the Node it ran on, or why it was not measured. */
  postgraphile5?: { version: string; connectionFilter: string; node: string } | { skipped: string };
  /** Whether the benchmark databases were vacuumed and analysed after the import (false: --no-vacuum). */
  vacuumed?: boolean;
  /** Interleaved slices per uncached figure (ours, PostGraphile, floors). */
  rounds?: number;
  machine: { cpus: number; cpuModel: string; memoryGiB: number; node: string; loadAverageAtStart: number[]; loadAverageAtEnd: number[] };
  database: { kind: 'postgres' | 'pglite'; version: string };
  connections: number;
  seconds: number;
  sizes: SizeResult[];
  voice: VoiceResult | { skipped: string };
  subscribers: SubscriberResult[] | { skipped: string };
}

const anchorArgs = (url: string) => ['--url', url, '--auth', postgraphileAuth, ...(withAuth ? ['--auth-secret', BENCH_AUTH_SECRET] : [])];

function startPostgraphile(url: string): Promise<ServerProcess> {
  return spawnBenchServer(anchorArgs(url), 'bench/postgraphile-server.ts');
}

/** PostGraphile v5, once installed (bench/postgraphile5.ts), or why it is not measured. */
let postgraphile5: Postgraphile5 | { skipped: string } = { skipped: 'not prepared' };

function startPostgraphile5(url: string): Promise<ServerProcess> {
  if (!('node' in postgraphile5)) throw new Error(postgraphile5.skipped);
  return spawnBenchServer(anchorArgs(url), postgraphile5.script, { node: postgraphile5.node });
}

const packageVersion = (name: string) => (JSON.parse(readFileSync(`node_modules/${name}/package.json`, 'utf8')) as { version: string }).version;

/** Asks a server one question (with the bench's token) and returns its JSON answer. */
async function ask(url: string, body: string): Promise<{ data?: unknown; errors?: unknown[] }> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json', ...authHeaders }, body });
  return (await response.json()) as { data?: unknown; errors?: unknown[] };
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
  const s = size(tickets, sizeLabel(tickets));
  log(`size ${s.label}: ${s.tickets} tickets, ${s.customers} customers, ${s.days} days of metrics: generating and importing`);
  const bench = await prepareDatabase(s, adminUrl, log, { reuse: values.reuse, prefix: values['db-prefix'], vacuum: !values['no-vacuum'] });
  if (bench.importSeconds !== null) log(`size ${s.label}: loaded in ${bench.importSeconds.toFixed(1)} s`);
  const postgraphileSkipped = skip.has('postgraphile') ? '--skip postgraphile' : !bench.url ? 'PostGraphile needs PostgreSQL (set DATABASE_URL)' : undefined;
  // Copied before anything connects to the source (CREATE DATABASE … TEMPLATE needs it idle).
  const postgraphileDb = postgraphileSkipped ? undefined : await copyDatabase(bench, adminUrl!, 'postgraphile');
  try {
    const ops = operations(ANCHOR).filter((op) => !onlyOperations || onlyOperations.has(op.id));
    const captures = await captureStatements(bench, ops);
    const database = await openBenchDatabase(bench);
    const truths = new Map<string, number>();
    try {
      for (const op of ops) if (op.total) truths.set(op.id, Number((await database.rows<{ n: number }>(op.total.truth))[0].n));
    } finally {
      await database.close();
    }
    for (const op of ops) {
      const capture = captures.get(op.id)!;
      if (capture.response.errors?.length) throw new Error(`${op.id} answered with errors: ${JSON.stringify(capture.response.errors)}`);
    }
    const floors = new Map<string, FloorResult>();
    const simplestFloors = new Map<string, FloorResult>();
    const api = new Map<string, OperationResult['api']>();
    const cached = new Map<string, NonNullable<OperationResult['cached']>>();
    /** Each anchor's result per operation: PostGraphile v4 ('postgraphile') and v5 ('postgraphile5'). */
    const anchorResults = { postgraphile: new Map<string, AnchorResult>(), postgraphile5: new Map<string, AnchorResult>() };
    const single = new Map<string, LoadResult>();
    const load = (url: string, body: string, secs: number, keepSamples = false) =>
      runLoad(url, body, { connections: CONNECTIONS, seconds: secs, warmupSeconds: 0, headers: authHeaders, keepSamples });
    /** A timed load with the server's CPU time per request read from the server itself. */
    const timed = async (server: ServerProcess, body: string, secs: number) => {
      const before = await server.stats();
      const result = await load(server.url, body, secs, true);
      const after = await server.stats();
      return { result, before, after, cpuMicros: after.cpuMicros - before.cpuMicros };
    };
    const withCpu = (parts: { result: LoadResult; cpuMicros: number }[]) => {
      const combined = combineLoads(parts.map((p) => p.result));
      return { ...combined, serverCpuMicrosPerRequest: parts.reduce((a, p) => a + p.cpuMicros, 0) / Math.max(1, combined.requests) };
    };

    // Ours (uncached), PostGraphile and both floors, interleaved: each figure is the sum of `rounds` slices taken in
    // turn (the order reversed every round), so that a change in the machine's load (it is shared) falls on all of them
    // alike rather than on whichever ran in a bad minute. Both servers stay up; the idle one costs next to nothing.
    // An embedded database belongs to one process at a time: there the floors run first, before the server opens it.
    const interleaveFloors = bench.kind === 'postgres';
    const floorOptions = { concurrency: CONNECTIONS, seconds: seconds / rounds, warmupSeconds: Math.min(1, warmupSeconds), keepSamples: true };
    const floorParts = new Map(ops.map((op) => [op.id, { simplest: [] as FloorResult[], replay: [] as FloorResult[] }]));
    const floorSteps = (op: Operation) => [
      async () => void floorParts.get(op.id)!.simplest.push(await runFloor(bench, op.simplest, floorOptions)),
      async () => void floorParts.get(op.id)!.replay.push(await runFloor(bench, captures.get(op.id)!.statements, floorOptions)),
    ];
    if (!interleaveFloors) for (const op of ops) for (let round = 0; round < rounds; round++) for (const step of floorSteps(op)) await step();
    const ours = await startServer(bench, false);
    /** The anchors up for this size: v4 and, where it could be installed, v5, both on the same copy of the data. */
    const anchors: { key: keyof typeof anchorResults; name: string; server: ServerProcess; body: (op: Operation) => string; totals: Map<string, number> }[] = [];
    try {
      if (postgraphileDb) {
        anchors.push({ key: 'postgraphile', name: 'PostGraphile v4', server: await startPostgraphile(postgraphileDb.url), body: postgraphileBody, totals: new Map() });
        if ('node' in postgraphile5) {
          anchors.push({ key: 'postgraphile5', name: 'PostGraphile v5', server: await startPostgraphile5(postgraphileDb.url), body: postgraphile5Body, totals: new Map() });
        }
      }
      // Correctness first, as for ours: an answer with errors aborts; its totalCount is compared with the SQL truth.
      for (const anchor of anchors) {
        for (const op of ops) {
          const answer = await ask(anchor.server.url, anchor.body(op));
          if (answer.errors?.length || !answer.data) throw new Error(`${anchor.name} ${op.id} answered with errors: ${JSON.stringify(answer.errors)}`);
          anchor.totals.set(op.id, dig(answer.data, op.postgraphile.totalPath) as number);
        }
      }
      const contenders = [{ key: 'api' as const, server: ours, body: requestBody }, ...anchors];
      // A fresh server compiles its hot paths in its first seconds under load: warm it on every operation before
      // timing any, so that the first operation timed is not charged with that (it used to read 2x slower).
      for (const op of ops) for (const c of contenders) await load(c.server.url, c.body(op), warmupSeconds);
      const slice = seconds / rounds;
      for (const op of ops) {
        // The quick run keeps under 3 minutes by letting the server-wide pass above be each operation's warm-up.
        if (!quick) {
          for (const c of contenders) {
            const warm = await load(c.server.url, c.body(op), warmupSeconds);
            if (warm.non2xx || warm.errors) log(`size ${s.label} ${op.id}: ${c.key} had ${warm.non2xx} non-2xx answers and ${warm.errors} errors in warm-up`);
          }
        }
        const parts = new Map(contenders.map((c) => [c.key, [] as { result: LoadResult; cpuMicros: number }[]]));
        const [simplestStep, replayStep] = floorSteps(op);
        const steps: (() => Promise<void>)[] = [
          ...(interleaveFloors ? [simplestStep] : []),
          ...contenders.map((c) => async () => void parts.get(c.key)!.push(await timed(c.server, c.body(op), slice))),
          ...(interleaveFloors ? [replayStep] : []),
        ];
        for (let round = 0; round < rounds; round++) for (const step of round % 2 ? [...steps].reverse() : steps) await step();
        simplestFloors.set(op.id, combineFloors(floorParts.get(op.id)!.simplest));
        floors.set(op.id, combineFloors(floorParts.get(op.id)!.replay));
        api.set(op.id, withCpu(parts.get('api')!));
        for (const anchor of anchors) {
          const totalCount = anchor.totals.get(op.id) ?? null;
          anchorResults[anchor.key].set(op.id, { ...withCpu(parts.get(anchor.key)!), totalCount, exact: totalCount === (truths.get(op.id) ?? null) });
        }
        single.set(op.id, await runLoad(ours.url, requestBody(op), { connections: 1, seconds: singleSeconds, warmupSeconds: 0, headers: authHeaders }));
        const a = api.get(op.id)!;
        const theirs = anchors.map((anchor) => {
          const t = anchorResults[anchor.key].get(op.id)!;
          return `; ${anchor.name} ${t.requestsPerSecond.toFixed(0)} req/s (p50 ${t.p50.toFixed(2)} ms, ${t.serverCpuMicrosPerRequest.toFixed(0)} µs CPU/req${postgresCpu(t)})`;
        });
        log(
          `size ${s.label} ${op.id}: simplest-SQL floor ${simplestFloors.get(op.id)!.opsPerSecond.toFixed(0)} ops/s; ours ${a.requestsPerSecond.toFixed(0)} req/s (p50 ${a.p50.toFixed(2)} ms, ${a.serverCpuMicrosPerRequest.toFixed(0)} µs CPU/req${postgresCpu(a)})${theirs.join('')}; replay floor ${floors.get(op.id)!.opsPerSecond.toFixed(0)} ops/s`,
        );
      }
    } finally {
      await ours.stop();
      for (const anchor of anchors) await anchor.server.stop();
    }

    if (!skip.has('cache')) {
      const server = await startServer(bench, true);
      try {
        for (const op of ops) await load(server.url, requestBody(op), warmupSeconds);
        for (const op of ops) {
          if (!quick) await load(server.url, requestBody(op), warmupSeconds);
          const { result, before, after, cpuMicros } = await timed(server, requestBody(op), seconds);
          const hits = (after.cache?.hits ?? 0) - (before.cache?.hits ?? 0);
          const total = hits + (after.cache?.misses ?? 0) - (before.cache?.misses ?? 0);
          cached.set(op.id, { ...withCpu([{ result, cpuMicros }]), hitRate: total ? hits / total : 0 });
          log(`size ${s.label} ${op.id}: cached ${result.requestsPerSecond.toFixed(0)} req/s p50 ${result.p50.toFixed(2)} ms`);
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
      postgraphileSkipped,
      postgraphile5Skipped: postgraphileSkipped ?? ('skipped' in postgraphile5 ? postgraphile5.skipped : undefined),
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
          simplestFloor: simplestFloors.get(op.id),
          postgraphile: anchorResults.postgraphile.get(op.id) ?? null,
          postgraphile5: anchorResults.postgraphile5.get(op.id) ?? null,
        };
      }),
    };
  } finally {
    if (values.keep) log(`size ${s.label}: kept ${bench.url ?? bench.dataDir}${postgraphileDb ? ` and ${postgraphileDb.url}` : ''}`);
    else {
      await postgraphileDb?.drop();
      if (keepForLater) spareDatabase = bench;
      else await bench.drop();
    }
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
    postgraphile: { version: packageVersion('postgraphile'), connectionFilter: packageVersion('postgraphile-plugin-connection-filter'), auth: postgraphileAuth },
    vacuumed: !values['no-vacuum'],
    rounds,
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
  if (!skip.has('data') && adminUrl && !skip.has('postgraphile') && !skip.has('postgraphile5')) {
    postgraphile5 = await preparePostgraphile5(log);
    results.postgraphile5 = 'node' in postgraphile5 ? { version: postgraphile5.version, connectionFilter: postgraphile5.connectionFilter, node: postgraphile5.nodeVersion } : postgraphile5;
  } else {
    postgraphile5 = { skipped: skip.has('postgraphile') || skip.has('postgraphile5') ? '--skip' : 'needs PostgreSQL (set DATABASE_URL)' };
    results.postgraphile5 = postgraphile5;
  }
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
