// Starts the real app on a free port against a fresh test database, and talks to it over HTTP.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Connectors, createConnectors } from '../../src/connectors';
import { type GenerateOptions, generateDataset } from '../../src/db/generate';
import { importDirectory } from '../../src/db/import';
import { type App, type AppOptions, buildApp } from '../../src/server/app';
import type { AppServices } from '../../src/schema/context';
import { type Logger, createLogger } from '../../src/logger';
import { type TestDatabase, createTestDatabase } from './database';

export interface GraphQLResponse<T = any> {
  status: number;
  data?: T;
  errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, unknown> }[];
}

export interface TestServer {
  url: string;
  wsUrl: string;
  baseUrl: string;
  database: TestDatabase;
  connectors: Connectors;
  app: App;
  /** SQL statements sent through drizzle since the last reset. */
  statements: string[];
  query<T = any>(query: string, variables?: Record<string, unknown>, headers?: Record<string, string>): Promise<GraphQLResponse<T>>;
  stop(): Promise<void>;
}

export interface TestServerOptions {
  /** A directory of seed files to import, or options for a generated dataset. */
  data?: string | Omit<GenerateOptions, 'outDir'>;
  /** Reuse a database (e.g. to restart a server on the same data). */
  database?: TestDatabase;
  /** Extra services (e.g. voice) layered over the defaults. */
  services?: (base: AppServices, database: TestDatabase) => Promise<Partial<AppServices>> | Partial<AppServices>;
  logLevel?: 'debug' | 'info' | 'warn' | 'error' | 'silent';
  /** Extra yoga plugins for the app. */
  plugins?: AppOptions['plugins'];
  /** Request limits, CORS origins, GraphiQL and the response cache (src/server/limits.ts, cors.ts, cache.ts). */
  http?: Pick<AppOptions, 'limits' | 'corsOrigins' | 'graphiql' | 'responseCache' | 'compiledQueries'>;
  /** Headers of every query() that passes none (e.g. a bearer token). */
  headers?: Record<string, string>;
  /** Authentication (src/server/auth.ts); without it every request is the default tenant's. */
  auth?: AppOptions['auth'];
  /** A logger of the test's own (e.g. createLogger('debug', write) to read what the server logs); overrides logLevel. */
  log?: Logger;
  /** Prometheus metrics shared with other services (e.g. voice), and a separate metrics port (src/server/metrics.ts). */
  metrics?: AppOptions['metrics'];
  metricsPort?: AppOptions['metricsPort'];
}

/** Generates a dataset into a temporary directory and returns its path. */
export async function generatedDataDir(options: Omit<GenerateOptions, 'outDir'>): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'udc-data-'));
  await generateDataset({ ...options, outDir: dir });
  return dir;
}

export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const defaultHeaders = options.headers;
  const statements: string[] = [];
  const database = options.database ?? (await createTestDatabase({ onQuery: (q) => statements.push(q) }));
  if (options.data) {
    const dir = typeof options.data === 'string' ? options.data : await generatedDataDir(options.data);
    await importDirectory(database, dir);
  }
  const connectors = createConnectors(database);
  const log = options.log ?? createLogger(options.logLevel ?? (process.env.TEST_LOG_LEVEL as 'debug' | undefined) ?? 'silent');
  const base: AppServices = { connectors, log, tenantId: 'default' };
  const services = { ...base, ...(options.services ? await options.services(base, database) : {}) };
  // Every query of the suite runs compiled from its first run (the product compiles from the second), so the suite
  // checks the compiled answers; compiled-queries.test.ts checks them against graphql-js's side by side.
  const app = buildApp({ services, database, port: 0, host: '127.0.0.1', plugins: options.plugins, auth: options.auth, metrics: options.metrics, metricsPort: options.metricsPort, compiledQueries: { after: 1 }, ...options.http });
  const url = await app.start();
  statements.length = 0;
  return {
    url,
    wsUrl: url.replace(/^http/, 'ws'),
    baseUrl: url.replace(/\/graphql$/, ''),
    database,
    connectors,
    app,
    statements,
    async query(query, variables, headers = defaultHeaders) {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json', ...headers },
        body: JSON.stringify({ query, variables }),
      });
      const body = (await response.json()) as GraphQLResponse;
      return { ...body, status: response.status };
    },
    async stop() {
      await app.stop();
      if (!options.database) await database.close();
    },
  };
}
