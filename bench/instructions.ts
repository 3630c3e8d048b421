// Instructions per request, counted by valgrind's callgrind, for our server and PostGraphile v5 on the same database:
// a measure of each server's work that the machine's other load cannot move (CPU time per request moves by 20 % or
// more on this shared machine between runs of the same code). Not part of `npm run bench`: valgrind runs a server
// about 20-50x slower, so this takes minutes. Usage (a bench database made by `npm run bench -- --keep` first):
//   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npx tsx bench/instructions.ts [--requests 400]
//     [--operations customer-tickets,dau-30-days] [--servers ours,interpreted,postgraphile5]
// Each server runs under callgrind with counting off; each operation is warmed up (uncounted), then counted over
// --requests requests at --concurrency. `{ __typename }` is counted as well: the fixed cost of a request (HTTP,
// token, GraphQL layers) without any resolver or SQL. KEEP_CALLGRIND=1 keeps callgrind's output files (for callgrind_annotate).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { BENCH_AUTHORIZATION, BENCH_AUTH_SECRET } from './auth';
import { ANCHOR, sizeLabel } from './dataset';
import { type Operation, operations, postgraphile5Body, requestBody } from './operations';
import { preparePostgraphile5 } from './postgraphile5';
import { type ServerProcess, spawnBenchServer } from './server-process';

const { values } = parseArgs({
  options: {
    size: { type: 'string', default: '50' },
    requests: { type: 'string', default: '400' },
    warmup: { type: 'string', default: '1500' },
    concurrency: { type: 'string', default: '8' },
    operations: { type: 'string', default: 'open-high-tickets,active-customers,customer-tickets,dau-30-days' },
    servers: { type: 'string', default: 'ours,postgraphile5' },
  },
});
const adminUrl = process.env.DATABASE_URL;
if (!adminUrl) throw new Error('set DATABASE_URL (the PostgreSQL server holding the bench databases of `npm run bench -- --keep`)');
const dbUrl = (name: string) => Object.assign(new URL(adminUrl), { pathname: `/${name}` }).toString();
const requests = Number(values.requests);
const warmup = Number(values.warmup);
const concurrency = Number(values.concurrency);
const wanted = new Set(values.operations.split(','));
const ops = operations(ANCHOR).filter((op) => wanted.has(op.id));
const log = (line: string) => process.stderr.write(`[instructions] ${line}\n`);

interface Request {
  id: string;
  body: string;
}
const TYPENAME: Request = { id: '{ __typename }', body: JSON.stringify({ query: '{ __typename }' }) };

async function send(url: string, request: Request, count: number): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < count) {
      next++;
      const ask = () =>
        fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: 'application/json', authorization: BENCH_AUTHORIZATION },
          body: request.body,
        });
      // Under valgrind a kept-alive connection can outlive the server's keep-alive timeout between two requests: the
      // server closes it as the next request goes out, and that request is sent again on a new one.
      const response = await ask().catch(ask);
      const text = await response.text();
      if (response.status !== 200 || text.includes('"errors"')) throw new Error(`${request.id}: ${response.status} ${text.slice(0, 300)}`);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

/** Total instructions (Ir) in the newest callgrind dump of the folder. */
function lastDumpInstructions(folder: string): number {
  const dumps = readdirSync(folder)
    .map((f) => Number(/^callgrind\.out\.(\d+)$/.exec(f)?.[1]))
    .filter((n) => !Number.isNaN(n))
    .sort((a, b) => a - b);
  const text = readFileSync(join(folder, `callgrind.out.${dumps.at(-1)}`), 'utf8');
  const totals = text.match(/^totals: (\d+)/m);
  if (!totals) throw new Error(`no totals in callgrind.out.${dumps.at(-1)}`);
  return Number(totals[1]);
}

async function count(server: ServerProcess, folder: string, request: Request): Promise<number> {
  const pid = String(server.child.pid);
  await send(server.url, request, warmup);
  execFileSync('callgrind_control', ['--zero', pid], { stdio: 'ignore' });
  execFileSync('callgrind_control', ['--instr=on', pid], { stdio: 'ignore' });
  await send(server.url, request, requests);
  execFileSync('callgrind_control', ['--instr=off', pid], { stdio: 'ignore' });
  execFileSync('callgrind_control', ['--dump', pid], { stdio: 'ignore' });
  return lastDumpInstructions(folder) / requests;
}

async function measure(name: string, start: (wrapper: string[]) => Promise<ServerProcess>, bodyOf: (op: Operation) => string): Promise<Map<string, number>> {
  const folder = mkdtempSync(join(tmpdir(), 'udc-callgrind-'));
  const wrapper = ['valgrind', '--tool=callgrind', '--instr-atstart=no', `--callgrind-out-file=${join(folder, 'callgrind.out')}`];
  log(`${name}: starting under callgrind`);
  const server = await start(wrapper);
  const results = new Map<string, number>();
  try {
    for (const request of [TYPENAME, ...ops.map((op) => ({ id: op.id, body: bodyOf(op) }))]) {
      const perRequest = await count(server, folder, request);
      results.set(request.id, perRequest);
      log(`${name} ${request.id}: ${Math.round(perRequest).toLocaleString('en')} instructions per request`);
    }
  } finally {
    await server.stop();
    if (!process.env.KEEP_CALLGRIND) rmSync(folder, { recursive: true, force: true });
  }
  return results;
}

const servers = new Set(values.servers.split(','));
const measured: Record<string, Map<string, number>> = {};
const benchDb = `udc_bench_${sizeLabel(Number(values.size))}`;
const oursArgs = ['--url', dbUrl(benchDb), '--auth-secret', BENCH_AUTH_SECRET];
if (servers.has('ours')) {
  measured.ours = await measure('ours', (wrapper) => spawnBenchServer(oursArgs, 'bench/server.ts', { wrapper }), requestBody);
}
// Ours with graphql-js's executor only: what compiled queries (src/server/compiled-queries.ts) save.
if (servers.has('interpreted')) {
  measured['ours, graphql-js executor'] = await measure('ours, graphql-js executor', (wrapper) => spawnBenchServer([...oursArgs, '--interpreted'], 'bench/server.ts', { wrapper }), requestBody);
}
if (servers.has('postgraphile5')) {
  const v5 = await preparePostgraphile5(log);
  if (!('node' in v5)) throw new Error(`PostGraphile v5: ${v5.skipped}`);
  const args = ['--url', dbUrl(`${benchDb}_postgraphile`), '--auth', 'gate', '--auth-secret', BENCH_AUTH_SECRET];
  measured.postgraphile5 = await measure('PostGraphile v5', (wrapper) => spawnBenchServer(args, v5.script, { node: v5.node, wrapper }), postgraphile5Body);
}

const names = Object.keys(measured);
const rows = [TYPENAME.id, ...ops.map((op) => op.id)].map((id) => {
  const cells = names.map((name) => Math.round(measured[name].get(id) ?? Number.NaN).toLocaleString('en'));
  const ratio = measured.ours && measured.postgraphile5 ? (measured.postgraphile5.get(id)! / measured.ours.get(id)!).toFixed(2) : '';
  return `| ${id} | ${cells.join(' | ')} | ${ratio} |`;
});
process.stdout.write(
  `\nInstructions per request (callgrind; ${requests} requests at concurrency ${concurrency} after ${warmup} uncounted; ${values.size} tickets)\n\n` +
    `| operation | ${names.join(' | ')} | v5 ÷ ours |\n|---|${names.map(() => '---:|').join('')}---:|\n${rows.join('\n')}\n`,
);
