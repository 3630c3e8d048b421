// The raw-SQL floor: the exact statements (and parameters) the API sends for an operation, captured once,
// then replayed with the bare driver in a closed loop at the same concurrency as the HTTP load.
import type { PGlite } from '@electric-sql/pglite';
import postgres from 'postgres';
import { createConnectors } from '../src/connectors';
import { type Database, createDatabase } from '../src/db/client';
import { buildApp } from '../src/server/app';
import { createLogger } from '../src/logger';
import type { BenchDatabase } from './dataset';
import { type Operation, requestBody } from './operations';
import { type CpuShares, combineShares, cpuShares, sampleCpu } from './cpu-shares';
import { type LatencyStats, summarize } from './stats';

export interface Statement {
  query: string;
  params: unknown[];
}

export interface Capture {
  statements: Statement[];
  /** The API's answer, to check correctness before timing anything. */
  response: { data?: unknown; errors?: unknown[] };
}

export async function openBenchDatabase(bench: BenchDatabase, onQuery?: (q: string, p: unknown[]) => void): Promise<Database> {
  return createDatabase({ url: bench.url, dataDir: bench.dataDir, onQuery });
}

/** Runs each operation through the real app in this process and records every SQL statement it sends. */
export async function captureStatements(bench: BenchDatabase, ops: Operation[]): Promise<Map<Operation['id'], Capture>> {
  let recording: Statement[] | null = null;
  const database = await openBenchDatabase(bench, (query, params) => recording?.push({ query, params }));
  try {
    if (database.kind === 'pglite') await database.pglite!.exec('ANALYZE');
    const services = { connectors: createConnectors(database), log: createLogger('silent'), tenantId: 'default' };
    const app = buildApp({ services, database, port: 0 });
    const captures = new Map<Operation['id'], Capture>();
    for (const op of ops) {
      const ask = async () => {
        const response = await app.yoga.fetch('http://bench/graphql', {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: 'application/json' },
          body: requestBody(op),
        });
        return (await response.json()) as Capture['response'];
      };
      await ask();
      recording = [];
      const response = await ask();
      captures.set(op.id, { statements: recording, response });
      recording = null;
    }
    return captures;
  } finally {
    await database.close();
  }
}

export interface FloorResult extends LatencyStats {
  opsPerSecond: number;
  statementsPerOp: number;
  operations: number;
  /** How long the timed loop lasted. */
  seconds?: number;
  /** Every operation's duration (ms), when asked for (keepSamples): to combine interleaved slices; never stored. */
  samples?: number[];
  /** Where the machine's CPU went per operation during the timed loop (PostgreSQL, this process's driver, every core). */
  cpu?: CpuShares;
}

/** One figure from slices of the same floor taken at different times. */
export function combineFloors(parts: FloorResult[]): FloorResult {
  const operations = parts.reduce((a, p) => a + p.operations, 0);
  const seconds = parts.reduce((a, p) => a + (p.seconds ?? 0), 0);
  const cpu = parts.every((p) => p.cpu) ? { cpu: combineShares(parts.map((p) => ({ shares: p.cpu!, operations: p.operations }))) } : {};
  return { opsPerSecond: operations / seconds, statementsPerOp: parts[0].statementsPerOp, operations, seconds, ...summarize(parts.flatMap((p) => p.samples ?? [])), ...cpu };
}

/** Closed loop: `concurrency` workers, each running the operation's statements (concurrently, as the API may) again and again. */
export async function runFloor(
  bench: BenchDatabase,
  statements: Statement[],
  options: { concurrency: number; seconds: number; warmupSeconds: number; keepSamples?: boolean },
): Promise<FloorResult> {
  let exec: (s: Statement) => Promise<unknown>;
  let close: () => Promise<void>;
  if (bench.url) {
    // Same pool size as the server's postgres.js client (createDatabase's default of 10).
    const client = postgres(bench.url, { max: 10, onnotice: () => {} });
    exec = (s) => client.unsafe(s.query, s.params as postgres.ParameterOrJSON<never>[]);
    close = () => client.end({ timeout: 5 });
  } else {
    const database = await createDatabase({ dataDir: bench.dataDir });
    const pglite = database.pglite as PGlite;
    exec = (s) => pglite.query(s.query, s.params as unknown[]);
    close = () => database.close();
  }
  try {
    const runOnce = () => Promise.all(statements.map(exec));
    const loop = async (seconds: number, latencies: number[] | null) => {
      const end = performance.now() + seconds * 1000;
      let count = 0;
      const worker = async () => {
        while (performance.now() < end) {
          const t0 = performance.now();
          await runOnce();
          latencies?.push(performance.now() - t0);
          count++;
        }
      };
      await Promise.all(Array.from({ length: options.concurrency }, worker));
      return count;
    };
    await loop(options.warmupSeconds, null);
    const latencies: number[] = [];
    const cpuBefore = sampleCpu();
    const t0 = performance.now();
    const count = await loop(options.seconds, latencies);
    const elapsed = (performance.now() - t0) / 1000;
    const cpu = cpuShares(cpuBefore, sampleCpu(), count);
    return {
      opsPerSecond: count / elapsed,
      statementsPerOp: statements.length,
      operations: count,
      seconds: elapsed,
      ...summarize(latencies),
      ...(options.keepSamples ? { samples: latencies } : {}),
      cpu,
    };
  } finally {
    await close();
  }
}
