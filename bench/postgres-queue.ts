// `DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npx tsx bench/postgres-queue.ts [--seconds 20]`: the
// postgres.js driver alone under steady load (a closed loop of `SELECT 1`, 32 workers on a pool of 10, as the server
// and the simplest-SQL floor use it), printing queries/s and CPU per query every 2 s. Without the patch of
// patches/postgres+3.4.9.patch the CPU per query grows for as long as the load lasts (its connection queues keep a hole
// per query); with it, it stays flat. See bench/README.md.
import { parseArgs } from 'node:util';
import postgres from 'postgres';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '20' } } });
const url = process.env.DATABASE_URL;
if (!url) throw new Error('set DATABASE_URL to a PostgreSQL server');
const sql = postgres(url, { max: 10, prepare: true });
let count = 0;
let stop = false;
async function worker() {
  while (!stop) {
    await sql.unsafe('SELECT 1', [], { prepare: true });
    count++;
  }
}
const workers = Array.from({ length: 32 }, worker);
const started = performance.now();
let lastCount = 0;
let lastCpu = process.cpuUsage();
for (let elapsed = 0; elapsed < Number(values.seconds); elapsed += 2) {
  await new Promise((resolve) => setTimeout(resolve, 2000));
  const cpu = process.cpuUsage(lastCpu);
  lastCpu = process.cpuUsage();
  const queries = count - lastCount;
  lastCount = count;
  const at = ((performance.now() - started) / 1000).toFixed(0).padStart(3);
  console.log(`${at} s  ${Math.round(queries / 2).toLocaleString('en')} queries/s  ${((cpu.user + cpu.system) / queries).toFixed(1)} µs CPU per query`);
}
stop = true;
await Promise.all(workers);
await sql.end();
