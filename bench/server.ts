// The server under test, in a process of its own: the real buildApp over a benchmark database, optionally with
// the response cache. Prints "READY <url>" on stdout; stops on SIGTERM. Used by run.ts, not meant for users.
import { parseArgs } from 'node:util';
import { createConnectors } from '../src/connectors';
import { createDatabase } from '../src/db/client';
import { inTenantTransactions } from './rls-client';
import { buildApp } from '../src/server/app';
import { createAuthenticator } from '../src/server/auth';
import { createResponseCache } from '../src/server/cache';
import { createLogger } from '../src/logger';
import { loadConfig } from '../src/config';
import { createVoiceProviders } from '../src/voice/providers';
import { createVoiceService } from '../src/voice/service';
import { FakeStreamingModel, PAPER_TIMINGS, createFakeStt, createFakeTts } from './fakes';

const { values } = parseArgs({
  options: {
    url: { type: 'string' },
    'data-dir': { type: 'string' },
    cache: { type: 'boolean', default: false },
    // The voice service over fixed-latency fake providers (for the subscriber benchmark).
    voice: { type: 'boolean', default: false },
    // Verify an HS256 bearer token on every request, as a deployment does.
    'auth-secret': { type: 'string' },
    // bench/rls.ts: run every query in a transaction that first sets udc.tenant (row-level security's key).
    'rls-tenant': { type: 'string' },
    // graphql-js's executor only (no compiled queries), to measure what compiling gives.
    interpreted: { type: 'boolean', default: false },
  },
});

const rlsTenant = values['rls-tenant'];
const database = await createDatabase({ url: values.url, dataDir: values['data-dir'], wrapClient: rlsTenant ? (sql) => inTenantTransactions(sql, rlsTenant) : undefined });
const log = createLogger('warn');
const connectors = createConnectors(database);
const voice = values.voice
  ? await createVoiceService({
      database,
      connectors,
      log,
      providers: createVoiceProviders(loadConfig({ VOICE_PROVIDER: 'local' }), { connectors, log }, {
        stt: createFakeStt(PAPER_TIMINGS),
        tts: createFakeTts(PAPER_TIMINGS),
        model: new FakeStreamingModel({ timings: PAPER_TIMINGS }),
      }),
      databaseUrl: values.url,
    })
  : undefined;
const services = { connectors, log, tenantId: 'default', voice };
const responseCache = values.cache ? createResponseCache({ database }) : undefined;
const auth = values['auth-secret'] ? createAuthenticator({ secret: values['auth-secret'], defaultTenant: 'default' }) : undefined;
const app = buildApp({ services, database, port: 0, host: '127.0.0.1', responseCache, auth, ...(values.interpreted && { compiledQueries: false as const }) });
const url = await app.start();
process.stdout.write(`READY ${url}\n`);

process.on('message', (message) => {
  if (message === 'stats') process.send?.({ cache: responseCache?.stats() ?? null, rss: process.memoryUsage().rss, cpuMicros: process.cpuUsage().user + process.cpuUsage().system });
});
process.on('SIGTERM', async () => {
  await app.stop();
  // Requests still in flight when the load generator stopped finish before the database closes under them.
  await new Promise((resolve) => setTimeout(resolve, 500));
  await voice?.close();
  await database.close();
  process.exit(0);
});
