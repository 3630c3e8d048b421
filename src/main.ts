// Composition root: config → database (migrated; embedded one seeded on first start) → connectors → app.start().
import { ConfigError, loadConfig } from './config';
import { createConnectors } from './connectors';
import { demoSummary, shiftToNow, demoDataDir } from './db/demo';
import { importDirectory } from './db/import';
import { databaseStart, isEmptyDatabase, openConfiguredDatabase } from './db/open';
import { buildApp } from './server/app';
import { useOperationAllowList } from './server/allow-list';
import { createAuthenticator } from './server/auth';
import { createResponseCache } from './server/cache';
import { compiledQueriesAfter } from './server/compiled-queries';
import { createMetrics } from './server/metrics';
import { createLogger } from './logger';
import { createShutdown } from './shutdown';
import { createVoiceProviders } from './voice/providers';
import { createVoiceService } from './voice/service';
import { createTurnLimiter, turnLimitsFromConfig } from './voice/turn-limits';

async function main() {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(1);
    }
    throw error;
  }
  const log = createLogger(config.LOG_LEVEL);
  const start = databaseStart(config);
  log.info(start === 'initdb' ? 'creating the database (no install-time template: `npm run db:template` makes one)' : 'opening the database', {
    kind: config.DATABASE_URL ? 'postgres' : 'pglite',
    ...(config.DATABASE_URL ? {} : { from: start }),
  });
  // One registry for the app, the database's statements and the voice service (turn outcomes and stage durations).
  const metrics = createMetrics();
  const database = await openConfiguredDatabase(config, undefined, metrics.database.observeStatement);
  metrics.database.poolSize(database.kind === 'postgres' ? config.DATABASE_POOL_SIZE : 1);
  log.info('database ready', { kind: database.kind, ...(database.kind === 'pglite' ? { dataDir: config.DATA_DIR } : {}) });

  // Only the embedded database seeds itself, and only when it never held data; a real server never imports on its own.
  if (database.kind === 'pglite' && (await isEmptyDatabase(database))) {
    const shift = shiftToNow(demoDataDir);
    log.info(`importing the demo data (${demoSummary(demoDataDir)})`);
    const reports = await importDirectory(database, demoDataDir, { tenantId: config.TENANT_ID, shift });
    log.info('imported demo data', { shiftDays: shift.days, files: reports.map((r) => `${r.file}: ${r.records}`) });
  }

  const auth = createAuthenticator({
    secret: config.AUTH_JWT_SECRET,
    jwksUrl: config.AUTH_JWKS_URL,
    issuer: config.AUTH_ISSUER,
    audience: config.AUTH_AUDIENCE,
    tenantClaim: config.AUTH_TENANT_CLAIM,
    rolesClaim: config.AUTH_ROLES_CLAIM,
    clockToleranceSeconds: config.AUTH_CLOCK_TOLERANCE_S,
    defaultTenant: config.TENANT_ID,
  });
  if (!auth.enabled) {
    log.warn('auth is off: anyone who reaches this port reads and speaks to tenant data as TENANT_ID, with every role', {
      tenant: config.TENANT_ID,
      fix: 'set AUTH_JWT_SECRET or AUTH_JWKS_URL (see README, Security)',
    });
  }

  const connectors = createConnectors(database);
  const turnLimits = await createTurnLimiter({ ...turnLimitsFromConfig(config), log });
  // Providers from VOICE_PROVIDER: Groq, or the offline ones (pocketsphinx, espeak-ng, the rule-based intent model).
  log.info('loading the voice models', { provider: config.VOICE_PROVIDER });
  const providers = createVoiceProviders(config, { connectors, log, onProviderRequest: metrics.voice.providerRequest });
  const voice = await createVoiceService({ database, connectors, providers, log, databaseUrl: config.DATABASE_URL, memoryPoolSize: config.AGENT_MEMORY_POOL_SIZE, redisUrl: config.REDIS_URL, turnLimits, metrics: metrics.voice });
  log.info('voice ready', { provider: voice.provider, ...voice.capabilities });
  const app = buildApp({
    services: { connectors, log, tenantId: config.TENANT_ID, voice },
    database,
    auth,
    metrics,
    metricsPort: config.METRICS_PORT,
    // /ready also says 503 while the Redis that instances share is unreachable.
    readiness: config.REDIS_URL ? { redis: () => voice.ping() } : {},
    port: config.PORT,
    host: config.HOST,
    responseCache: config.RESPONSE_CACHE_TTL_MS > 0 ? createResponseCache({ database, ttlMs: config.RESPONSE_CACHE_TTL_MS }) : undefined,
    limits: {
      maxDepth: config.LIMIT_MAX_DEPTH,
      maxAliases: config.LIMIT_MAX_ALIASES,
      maxTokens: config.LIMIT_MAX_TOKENS,
      maxDirectives: config.LIMIT_MAX_DIRECTIVES,
      maxCost: config.LIMIT_MAX_COST,
      maxRequestBodyBytes: config.MAX_REQUEST_BODY_BYTES,
      introspection: config.INTROSPECTION,
    },
    corsOrigins: config.CORS_ORIGINS,
    compiledQueries: compiledQueriesAfter(config.COMPILE_QUERIES_AFTER),
    graphiql: config.GRAPHIQL,
    plugins: config.OPERATIONS_ALLOW_LIST ? [useOperationAllowList({ path: config.OPERATIONS_ALLOW_LIST, strict: config.OPERATIONS_STRICT, log })] : [],
  });
  // Signal handlers go in before the URL is printed: whoever reads it may send SIGTERM at once.
  const shutdown = createShutdown({
    app,
    voice,
    closeAfter: [() => turnLimits.close(), () => database.close()],
    graceMs: config.SHUTDOWN_GRACE_MS,
    log,
  });
  const stop = (signal: string) => {
    // Past the grace period and a margin for closing, the process ends anyway.
    setTimeout(() => process.exit(1), config.SHUTDOWN_GRACE_MS + 10_000).unref();
    shutdown(signal).then(
      () => process.exit(0),
      (error: unknown) => {
        log.error('shutdown failed', { error: (error as Error).message });
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));

  const url = await app.start();
  const metricsAddress = app.metricsServer?.address();
  const metricsUrl =
    metricsAddress && typeof metricsAddress === 'object' ? `http://${url.split('/')[2].split(':')[0]}:${metricsAddress.port}/metrics` : url.replace('/graphql', '/metrics');
  log.info('serving', { graphql: url, graphiql: url, health: url.replace('/graphql', '/health'), metrics: metricsUrl });
  console.error(`GraphiQL: ${url}`);
}

main().catch((error) => {
  console.error(`start-up failed: ${(error as Error).message}`);
  process.exit(1);
});
