// What the garbage collector keeps of each request: our server (its bundle, as the bench runs it) under the bench's
// load, with V8 reporting every young-generation collection (--trace-gc-nvp): how much a request allocates, how much of
// it is still reachable at the next collection (survived) and how much goes on to the old generation (promoted), and
// the collections' time. A request's objects should die with it: a few percent survive (the requests in flight at the
// collection); 8-12 % once did, held by a dead object in the old generation (bench/README.md, "What the collector
// promoted"). Not part of `npm run bench`. Usage (a bench database made by `npm run bench -- --keep` first):
//   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npx tsx bench/gc-promotion.ts [--size 50] [--seconds 8]
//     [--operations customer-tickets,dau-30-days]
import { parseArgs } from 'node:util';
import { BENCH_AUTHORIZATION, BENCH_AUTH_SECRET } from './auth';
import { ANCHOR, sizeLabel } from './dataset';
import { runLoad } from './load';
import { operations, requestBody } from './operations';
import { spawnBenchServer } from './server-process';

const { values } = parseArgs({
  options: {
    size: { type: 'string', default: '50' },
    seconds: { type: 'string', default: '8' },
    operations: { type: 'string', default: 'open-high-tickets,active-customers,customer-tickets,dau-30-days' },
  },
});
const adminUrl = process.env.DATABASE_URL;
if (!adminUrl) throw new Error('set DATABASE_URL (the PostgreSQL server holding the bench databases of `npm run bench -- --keep`)');
const url = Object.assign(new URL(adminUrl), { pathname: `/udc_bench_${sizeLabel(Number(values.size))}` }).toString();
const wanted = new Set(values.operations.split(','));

/** The figures of one young-generation collection, from a --trace-gc-nvp line ("gc=s" is a scavenge). */
function scavengeOf(line: string): { allocated: number; survived: number; promoted: number; ms: number } | null {
  if (!/\bgc=s\b/.test(line)) return null;
  const field = (name: string) => Number(line.match(new RegExp(`\\b${name}=([0-9.]+)`))?.[1] ?? 0);
  return { allocated: field('allocated'), survived: field('new_space_survived'), promoted: field('promoted'), ms: field('pause') };
}

const server = await spawnBenchServer(['--url', url, '--auth-secret', BENCH_AUTH_SECRET], 'bench/server.ts', {
  // `npm start`'s flags come first; V8 prints a line per collection on the server's stdout.
  wrapper: ['/bin/sh', '-c', 'exec "$0" --trace-gc-nvp "$@"'],
});
let lines: string[] = [];
let pending = '';
server.child.stdout!.on('data', (chunk: Buffer) => {
  const text = pending + chunk.toString();
  const parts = text.split('\n');
  pending = parts.pop()!;
  lines.push(...parts);
});

const table = ['| operation | requests | KiB allocated / request | survived | promoted | collections | pause ms / 1,000 requests |', '|---|---:|---:|---:|---:|---:|---:|'];
try {
  for (const op of operations(ANCHOR).filter((o) => wanted.has(o.id))) {
    const load = (seconds: number) => runLoad(server.url, requestBody(op), { connections: 32, seconds, warmupSeconds: 0, headers: { authorization: BENCH_AUTHORIZATION } });
    await load(2); // compiled, warm, the young generation grown to its size
    lines = [];
    const result = await load(Number(values.seconds));
    const scavenges = lines.map(scavengeOf).filter((s) => s !== null);
    const sum = (key: 'allocated' | 'survived' | 'promoted' | 'ms') => scavenges.reduce((total, s) => total + s[key], 0);
    const allocated = sum('allocated');
    const percent = (n: number) => (allocated ? `${((100 * n) / allocated).toFixed(1)} %` : 'n/a');
    table.push(
      `| ${op.id} | ${result.requests} | ${(allocated / 1024 / result.requests).toFixed(0)} | ${percent(sum('survived'))} | ${percent(sum('promoted'))} | ${scavenges.length} | ${((1000 * sum('ms')) / result.requests).toFixed(1)} |`,
    );
  }
} finally {
  await server.stop();
}
console.log(`Server from its bundle, ${values.size} tickets, 32 connections, ${values.seconds} s per operation; survived and promoted as shares of what was allocated between collections.\n`);
console.log(table.join('\n'));
