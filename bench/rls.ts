// `DATABASE_URL=… npx tsx bench/rls.ts [--tickets 50] [--seconds 5] [--rounds 2]`: what PostgreSQL row-level security
// would cost the uncached API. Two servers on the same data, both verifying a bearer token: A as today (superuser,
// tenant in every WHERE), B connected as a plain role with RLS forced on every tenant table and each query run as
// BEGIN; set_config('udc.tenant', …, true); query; COMMIT (the setting and the query pipelined), the way a per-request
// tenant setting has to travel with pooled connections. Loads alternate A, B per operation to share the machine's
// drift. Prints req/s and B ÷ A; writes bench/results/rls-<time>.json.
import { mkdirSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import postgres from 'postgres';
import { BENCH_AUTHORIZATION, BENCH_AUTH_SECRET } from './auth';
import { ANCHOR, prepareDatabase, size } from './dataset';
import { runLoad } from './load';
import { operations, requestBody } from './operations';
import { spawnBenchServer } from './server-process';

const { values } = parseArgs({ options: { tickets: { type: 'string', default: '50' }, seconds: { type: 'string', default: '5' }, rounds: { type: 'string', default: '2' } } });
const adminUrl = process.env.DATABASE_URL;
if (!adminUrl) {
  console.error('bench/rls.ts needs DATABASE_URL (row-level security is PostgreSQL\'s; PGlite runs as a superuser)');
  process.exit(2);
}
const log = (line: string) => process.stderr.write(`[rls ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
const ROLE = 'udc_rls_bench';
const TABLES = ['customers', 'tickets', 'metric_points', 'ticket_counts', 'customer_counts', 'data_changes', 'voice_sessions', 'voice_turns'];

const tickets = Number(values.tickets);
const bench = await prepareDatabase(size(tickets, `rls_${tickets}`), adminUrl, log);
const admin = postgres(bench.url!, { max: 1, onnotice: () => {} });
await admin.unsafe(`DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${ROLE}') THEN CREATE ROLE ${ROLE} LOGIN; END IF; END $$`);
await admin.unsafe(`GRANT USAGE ON SCHEMA public TO ${ROLE}; GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO ${ROLE}; GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO ${ROLE}`);
for (const table of TABLES) {
  await admin.unsafe(`ALTER TABLE ${table} ENABLE ROW LEVEL SECURITY; ALTER TABLE ${table} FORCE ROW LEVEL SECURITY;
    DROP POLICY IF EXISTS udc_tenant ON ${table};
    CREATE POLICY udc_tenant ON ${table} USING (tenant_id = current_setting('udc.tenant', true)) WITH CHECK (tenant_id = current_setting('udc.tenant', true))`);
}
const rlsUrl = new URL(bench.url!);
rlsUrl.username = ROLE;
// The policy holds: without the setting the plain role sees nothing, with it the tenant's rows.
const probe = postgres(rlsUrl.toString(), { max: 1 });
const [unset] = await probe`SELECT count(*)::int AS n FROM customers`;
const [scoped] = await probe.begin((tx) => [tx`SELECT set_config('udc.tenant', 'default', true)`, tx`SELECT count(*)::int AS n FROM customers`]).then((r) => r[1]);
await probe.end();
log(`policy check: ${unset.n} customers without the setting, ${scoped.n} with it`);
if (unset.n !== 0 || scoped.n === 0) throw new Error('row-level security is not in force');

const auth = ['--auth-secret', BENCH_AUTH_SECRET];
const servers = {
  plain: await spawnBenchServer(['--url', bench.url!, ...auth]),
  rls: await spawnBenchServer(['--url', rlsUrl.toString(), '--rls-tenant', 'default', ...auth]),
};
const seconds = Number(values.seconds);
const results: { op: string; round: number; plain: number; rls: number }[] = [];
try {
  for (const op of operations(ANCHOR)) {
    for (const server of Object.values(servers)) await runLoad(server.url, requestBody(op), { connections: 32, seconds: 2, warmupSeconds: 0, headers: { authorization: BENCH_AUTHORIZATION } });
    for (let round = 1; round <= Number(values.rounds); round++) {
      const run = async (url: string) => (await runLoad(url, requestBody(op), { connections: 32, seconds, warmupSeconds: 0, headers: { authorization: BENCH_AUTHORIZATION } })).requestsPerSecond;
      const plain = await run(servers.plain.url);
      const rls = await run(servers.rls.url);
      results.push({ op: op.id, round, plain, rls });
      log(`${op.id} round ${round}: plain ${plain.toFixed(0)} req/s, RLS ${rls.toFixed(0)} req/s, RLS ÷ plain ${(rls / plain).toFixed(3)}`);
    }
  }
} finally {
  for (const server of Object.values(servers)) await server.stop();
  await admin.unsafe(`DROP OWNED BY ${ROLE}`);
  await admin.end();
  await bench.drop();
  const cleanup = postgres(adminUrl, { max: 1, onnotice: () => {} });
  await cleanup.unsafe(`DROP ROLE IF EXISTS ${ROLE}`).catch(() => {});
  await cleanup.end();
}
const sum = (k: 'plain' | 'rls') => results.reduce((a, r) => a + r[k], 0);
log(`all operations: RLS ÷ plain ${(sum('rls') / sum('plain')).toFixed(3)} of throughput`);
mkdirSync('bench/results', { recursive: true });
const file = `bench/results/rls-${new Date().toISOString().slice(0, 19).replace(/:/g, '-')}.json`;
writeFileSync(file, `${JSON.stringify({ command: `npx tsx bench/rls.ts ${process.argv.slice(2).join(' ')}`, tickets, seconds, results }, null, 2)}\n`);
log(`wrote ${file}`);
