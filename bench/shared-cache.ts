// Does sharing the response cache between instances in Redis pay? Measures, on PostgreSQL with auth on, for each
// benchmark operation: the server's CPU per request served from its own memory (a hit) and uncached (a miss), and a
// Node client's CPU and latency per Redis GET of the same answer (what a shared cache adds to every hit). A shared
// cache saves an instance's own first miss of a key per data version; in place of the local cache it costs a GET on
// every request, behind it (two tiers: Redis asked on a local miss only) a GET per local miss. Prints both
// break-evens and writes bench/results/.
//   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npx tsx bench/shared-cache.ts [--seconds 6] [--tickets 50]
import { mkdirSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { BENCH_AUTHORIZATION, BENCH_AUTH_SECRET } from './auth';
import { ANCHOR, prepareDatabase, size } from './dataset';
import { runLoad } from './load';
import { operations, requestBody } from './operations';
import { type ServerProcess, spawnBenchServer } from './server-process';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '6' },
    tickets: { type: 'string', default: '50' },
    connections: { type: 'string', default: '32' },
    redis: { type: 'string', default: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' },
  },
});
const adminUrl = process.env.DATABASE_URL;
if (!adminUrl) {
  console.error('DATABASE_URL (a PostgreSQL server) is needed: instances share a cache only on PostgreSQL');
  process.exit(1);
}
const seconds = Number(values.seconds);
const connections = Number(values.connections);
const log = (line: string) => console.error(line);

const bench = await prepareDatabase(size(Number(values.tickets), String(values.tickets)), adminUrl, log, { reuse: true });
const headers = { authorization: BENCH_AUTHORIZATION };

/** Server CPU (µs) per request and throughput, for one operation, on a server with or without its cache. */
async function measure(server: ServerProcess, body: string) {
  await runLoad(server.url, body, { connections, seconds: 2, warmupSeconds: 0, headers });
  const before = await server.stats();
  const load = await runLoad(server.url, body, { connections, seconds, warmupSeconds: 0, headers });
  const after = await server.stats();
  return { rps: load.requestsPerSecond, p50: load.p50, cpuMicrosPerRequest: (after.cpuMicros - before.cpuMicros) / load.requests, hits: after.cache ? after.cache.hits - before.cache!.hits : null };
}

/** Client CPU (µs) and round trip (ms) per GET of `value`, `connections` GETs in flight, for `seconds`. */
async function redisGets(value: string) {
  const redis = new Redis(String(values.redis));
  const key = `udc-bench:shared-cache:${process.pid}`;
  await redis.set(key, value, 'EX', 60);
  let gets = 0;
  const latencies: number[] = [];
  const deadline = Date.now() + seconds * 1000;
  const cpu0 = process.cpuUsage();
  const started = performance.now();
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (Date.now() < deadline) {
        const t = performance.now();
        await redis.getBuffer(key);
        latencies.push(performance.now() - t);
        gets++;
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpu0);
  await redis.del(key);
  redis.disconnect();
  latencies.sort((a, b) => a - b);
  return { getsPerSecond: gets / elapsed, cpuMicrosPerGet: (cpu.user + cpu.system) / gets, p50Ms: latencies[Math.floor(latencies.length / 2)] };
}

const base = ['--url', bench.url!, '--auth-secret', BENCH_AUTH_SECRET];
const rows = [];
for (const op of operations(ANCHOR)) {
  const body = requestBody(op);
  const cached = await spawnBenchServer([...base, '--cache']);
  const hit = await measure(cached, body);
  const answer = await (await fetch(cached.url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body })).text();
  await cached.stop();
  const plain = await spawnBenchServer(base);
  const miss = await measure(plain, body);
  await plain.stop();
  const get = await redisGets(answer);
  // Per key and data version, N instances with a private cache run the operation N times, a shared one once: it saves
  // (N − 1) misses, each costing (miss − hit) more CPU than a hit; it adds one GET to each of the H hits per instance.
  // Sharing pays when (N − 1)·(miss − hit) > N·H·get, i.e. below H* = (N − 1)(miss − hit) / (N·get) hits per instance.
  const breakEven = (n: number) => ((n - 1) * (miss.cpuMicrosPerRequest - hit.cpuMicrosPerRequest)) / (n * get.cpuMicrosPerGet);
  rows.push({
    operation: op.id,
    answerBytes: Buffer.byteLength(answer),
    hit: { rps: Math.round(hit.rps), cpuMicros: Math.round(hit.cpuMicrosPerRequest), hits: hit.hits },
    miss: { rps: Math.round(miss.rps), cpuMicros: Math.round(miss.cpuMicrosPerRequest) },
    redisGet: { cpuMicros: Math.round(get.cpuMicrosPerGet), p50Ms: Number(get.p50Ms.toFixed(3)), getsPerSecond: Math.round(get.getsPerSecond) },
    breakEvenHits: { instances2: Number(breakEven(2).toFixed(1)), instances6: Number(breakEven(6).toFixed(1)) },
    // Two tiers: a local miss asks Redis first; it pays when Redis holds the answer for more than this share of them.
    twoTierPaysAbovePercent: Number(((100 * get.cpuMicrosPerGet) / (miss.cpuMicrosPerRequest - hit.cpuMicrosPerRequest)).toFixed(1)),
  });
  log(`${op.id}: ${JSON.stringify(rows.at(-1))}`);
}
await bench.drop();

const lines = [
  `| operation | answer bytes | hit µs CPU (req/s) | miss µs CPU (req/s) | Redis GET µs CPU (p50 ms) | Redis instead of local pays below, hits per key and version: 2 instances | 6 instances | Redis behind local pays when it holds the answer for more than this % of local misses |`,
  '|---|---:|---:|---:|---:|---:|---:|---:|',
  ...rows.map(
    (r) =>
      `| ${r.operation} | ${r.answerBytes} | ${r.hit.cpuMicros} (${r.hit.rps}) | ${r.miss.cpuMicros} (${r.miss.rps}) | ${r.redisGet.cpuMicros} (${r.redisGet.p50Ms}) | ${r.breakEvenHits.instances2} | ${r.breakEvenHits.instances6} | ${r.twoTierPaysAbovePercent} |`,
  ),
];
console.log(lines.join('\n'));
mkdirSync('bench/results', { recursive: true });
const stamp = new Date().toISOString().slice(0, 19).replace(/[:T]/g, '-');
writeFileSync(`bench/results/shared-cache-${stamp}.json`, JSON.stringify({ command: 'npx tsx bench/shared-cache.ts', tickets: Number(values.tickets), seconds, connections, rows }, null, 2));
writeFileSync(`bench/results/shared-cache-${stamp}.md`, `${lines.join('\n')}\n`);
