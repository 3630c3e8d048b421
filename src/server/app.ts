// buildApp: one HTTP server with yoga at /graphql (GraphiQL included), graphql-ws on the same port and path,
// /health and /ready, and a clean stop. Everything it uses is passed in: no module-level state.
import { randomUUID } from 'node:crypto';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sql } from 'drizzle-orm';
import { type Plugin, createYoga } from 'graphql-yoga';
import type { Database } from '../db/client';
import { RequestBodyTooLargeError, bufferedHeaders, readBody, requestUrl, sendBodyTooLarge, sendResponse } from './buffered';
import type { ResponseCache } from './cache';
import { createSchema } from '../schema';
import { AuthUnavailableError, AuthenticationError, type Authenticator, createAuthenticator, useRoles, wwwAuthenticate } from './auth';
import { type AppServices, type GraphQLContext, type Identity, REQUEST_ID } from '../schema/context';
import { type DirectExecution, createDirectExecution, hasOnlyEnvelopHooks } from './direct';
import { createCorsPolicy } from './cors';
import { type CompiledQueriesOptions, compiledQueries } from './compiled-queries';
import { maskError, maskUnexpectedErrors } from './errors';
import { createGraphiQLPage } from './graphiql';
import { DEFAULT_LIMITS, type LimitOptions, createLimitPlugins } from './limits';
import { shareSubscriptionResults } from './shared-subscriptions';
import { type Metrics, createMetrics } from './metrics';
import { createGraphQLWebSocket } from './ws';
import { createRestApi } from './rest';
import { createVoicePage } from './voice-page';

export interface AppOptions {
  services: AppServices;
  database: Database;
  port?: number;
  host?: string;
  /** Extra envelop/yoga plugins (caching, auth, tracing). */
  plugins?: Plugin<GraphQLContext>[];
  /** Compiled execution of queries run often (compiled-queries.ts); false: graphql-js's executor only. */
  compiledQueries?: CompiledQueriesOptions | false;
  /** Depth, alias, token, directive, cost and body-size limits, and introspection (limits.ts); defaults when absent. */
  limits?: LimitOptions;
  /** Origins answered with CORS credentials (cors.ts); none: no cross-origin access. */
  corsOrigins?: readonly string[];
  /** Serve GraphiQL at GET /graphql (Accept: text/html); default true. */
  graphiql?: boolean;
  /** Serves repeated queries from memory until the tenant's data changes (see cache.ts). */
  responseCache?: ResponseCache;
  /** Who may ask (auth.ts); without it every request is services.tenantId's, with every role. */
  auth?: Authenticator;
  /** Prometheus metrics (metrics.ts); one of its own when absent. Pass the one the voice service counts into. */
  metrics?: Metrics;
  /**
   * Serve /metrics only on this port (METRICS_PORT; 0: a free one), without authentication, and answer 404 for it on
   * the main port. Without it /metrics is on the main port, public like /health: prefer a metrics port in production.
   */
  metricsPort?: number;
  /** More dependencies /ready checks besides the database (Redis when configured): each rejects when unreachable. */
  readiness?: Record<string, () => Promise<unknown>>;
}

export interface App {
  /** Listens; resolves with the URL of the GraphQL endpoint. */
  start(): Promise<string>;
  /**
   * The first step of a graceful stop: /ready answers 503 at once (the load balancer stops sending), new requests get
   * 503 SERVICE_UNAVAILABLE and new sockets are closed (1001); open sockets and their subscriptions go on.
   */
  drain(): void;
  stop(): Promise<void>;
  server: Server;
  yoga: ReturnType<typeof createYoga<Record<string, unknown>, GraphQLContext>>;
  /** Direct execution of ordinary requests (direct.ts); null when a plugin needs yoga's HTTP hooks. */
  direct: DirectExecution | null;
  metrics: Metrics;
  /** The server of the metrics port; null without one. */
  metricsServer: Server | null;
}

/**
 * A value the server attaches to a Node request (its id, the identity it proved), read back by the context factory.
 * Kept on the request object under a symbol of its own (no client can set one) rather than in a WeakMap: a WeakMap
 * entry per request costs the garbage collector a few µs (bench/README.md, "WeakMaps per request").
 */
function requestAnnotation<T>(name: string): { get(req: IncomingMessage): T | undefined; set(req: IncomingMessage, value: T): void } {
  const slot = Symbol(name);
  type Annotated = IncomingMessage & { [slot]?: T };
  return {
    get: (req) => (req as Annotated)[slot],
    set: (req, value) => {
      (req as Annotated)[slot] = value;
    },
  };
}

export function buildApp({
  services,
  database,
  port = 4000,
  host = '0.0.0.0',
  plugins = [],
  compiledQueries: compiled = {},
  responseCache,
  auth,
  limits = {},
  corsOrigins,
  graphiql = true,
  metrics = createMetrics(),
  metricsPort,
  readiness = {},
}: AppOptions): App {
  const { log } = services;
  const schema = createSchema();
  const maxBodyBytes = limits.maxRequestBodyBytes ?? DEFAULT_LIMITS.maxRequestBodyBytes;
  const cors = createCorsPolicy(corsOrigins);
  const authenticator = auth ?? createAuthenticator({ defaultTenant: services.tenantId });
  // The identity proven for each HTTP request or WebSocket upgrade, read by the context factory of every path. A
  // request without one (a path that skipped authentication) gets no context at all: fail closed.
  const identities = requestAnnotation<Identity>('identity');
  // The id the HTTP handler chose for each request (and sent back in x-request-id), read by the context factory.
  const requestIds = requestAnnotation<string>('requestId');
  /** A client's x-request-id when it looks like one, else a new UUID. */
  const newRequestId = (given: string | string[] | null | undefined) => (typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID());
  // A WebSocket operation's request is the socket's upgrade request: its x-request-id header, or an id per operation.
  const contextFor = (proven: Identity | undefined, req: IncomingMessage | undefined, header?: string | null): GraphQLContext => {
    const identity = proven ?? authenticator.defaultIdentity;
    if (!identity) throw new Error('internal: a GraphQL request reached execution without authentication');
    const requestId = (req && requestIds.get(req)) ?? newRequestId(req?.headers['x-request-id'] ?? header);
    return {
      ...services,
      // Every line the request's resolvers and plugins log names it and its tenant.
      log: services.log.child({ requestId, tenant: identity.tenantId }),
      identity,
      tenantId: identity.tenantId,
      requestId,
    };
  };

  // GraphiQL from this server's own files, opening on examples/ (graphiql.ts); the REST view under /rest (rest.ts).
  const graphiqlPage = graphiql ? createGraphiQLPage({ title: 'Universal Data Connector', log, authEnabled: authenticator.enabled }) : null;
  const rest = createRestApi({ log, openApi: limits.introspection ?? DEFAULT_LIMITS.introspection, docs: graphiql });
  // The browser voice page at /voice (voice-page.ts).
  const voicePage = createVoicePage({ log });

  const yoga = createYoga<Record<string, unknown>, GraphQLContext>({
    schema,
    graphqlEndpoint: '/graphql',
    // Enforced while the body streams in; the paths that read the body themselves (cache, direct) do the same.
    maxRequestBodySize: maxBodyBytes,
    landingPage: false,
    graphiql: graphiqlPage?.options ?? false,
    renderGraphiQL: graphiqlPage?.render,
    cors: cors.options,
    context: (initial) => {
      const req = (initial as { req?: IncomingMessage }).req;
      return contextFor(req && identities.get(req), req, initial.request?.headers.get('x-request-id'));
    },
    // Metrics right after the masking: its onExecuteDone runs next, on the final error codes.
    plugins: [maskUnexpectedErrors(log), metrics.plugin, useRoles(), ...createLimitPlugins(limits), ...plugins, ...(compiled ? [compiledQueries({ onCompile: (c) => log.debug('compiled a query', c), ...compiled })] : []), ...(responseCache ? [responseCache.plugin] : []), shareSubscriptionResults(), rest.plugin],
    // Our plugin already replaced unexpected errors; yoga's masking stays on as a second net.
    maskedErrors: { isDev: false, maskError },
    logging: {
      debug: (...args) => log.debug(String(args[0]), { args: args.slice(1).map(String) }),
      info: (...args) => log.info(String(args[0])),
      warn: (...args) => log.warn(String(args[0])),
      error: (...args) => log.error(String(args[0]), { args: args.slice(1).map(String) }),
    },
  });

  async function health(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    const path = req.url?.split('?')[0];
    if (path === '/metrics') {
      // Public like /health (no authentication): counts and durations, no tenant data. With a metrics port it is
      // served there only, and this port answers 404.
      if (metricsPort !== undefined) res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'not found' }));
      else await metrics.serve(res);
      return true;
    }
    if (path === '/health') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 'ok' }));
      return true;
    }
    if (path === '/ready') {
      if (draining) {
        res.writeHead(503, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 'draining', database: database.kind }));
        return true;
      }
      // Every dependency at once, each named in the answer: { database: 'ok', redis: 'unavailable' }.
      const checks: Record<string, () => Promise<unknown>> = { database: () => database.rows(sql`SELECT 1`), ...readiness };
      const results = await Promise.all(
        Object.entries(checks).map(async ([name, check]) => {
          try {
            await check();
            return [name, 'ok'] as const;
          } catch (error) {
            log.warn('readiness check failed', { dependency: name, error: (error as Error).message });
            return [name, 'unavailable'] as const;
          }
        }),
      );
      const ready = results.every(([, state]) => state === 'ok');
      res
        .writeHead(ready ? 200 : 503, { 'content-type': 'application/json' })
        .end(JSON.stringify({ status: ready ? 'ready' : 'unavailable', database: database.kind, checks: Object.fromEntries(results) }));
      return true;
    }
    return false;
  }

  // Ordinary queries skip yoga's Fetch-API emulation (direct.ts) unless a plugin needs yoga's HTTP hooks.
  const direct = plugins.every(hasOnlyEnvelopHooks) ? createDirectExecution({ yoga, endpoint: '/graphql', cors }) : null;
  const answer = direct ?? yoga;
  async function answerDirectly(req: IncomingMessage, res: ServerResponse, via: NonNullable<typeof direct>) {
    const body = await readBody(req, maxBodyBytes);
    await sendResponse(res, await via.fetch(requestUrl(req), { method: 'POST', headers: bufferedHeaders(req.headers), body }, { req, res }));
  }

  /** CORS headers for an answer written here rather than by yoga (an allowed origin can then read the refusal). */
  const corsFor = (req: IncomingMessage) => cors.headers({ headers: new Headers(bufferedHeaders(req.headers)) }) ?? {};

  /**
   * Proves who sent an HTTP request before any path (cache, direct, yoga) may answer it; answers 401 itself otherwise.
   * CORS preflights and the GraphiQL page carry no token and execute nothing, so they pass without one.
   */
  async function authenticated(req: IncomingMessage, res: ServerResponse): Promise<Identity | null> {
    // yoga answers any GET of /graphql accepting HTML with the page while GraphiQL is on, even with ?query= (GraphiQL
    // keeps the editor's text there, so a reload carries it); only on /graphql: /rest never answers with a page.
    const page = req.method === 'GET' && /^\/graphql\/?$/.test(req.url?.split('?')[0] ?? '') && /text\/html/.test(req.headers.accept ?? '');
    const executesNothing = req.method === 'OPTIONS' || (page && (!!graphiqlPage || !/[?&]query=/.test(req.url ?? '')));
    try {
      const identity = await authenticator.authenticate(req.headers.authorization);
      identities.set(req, identity);
      return identity;
    } catch (error) {
      if (error instanceof AuthUnavailableError) {
        if (executesNothing) return null;
        log.error('request refused: authentication unavailable', { reason: error.reason });
        res.writeHead(503, { ...corsFor(req), 'content-type': 'application/json', 'retry-after': '5' });
        res.end(JSON.stringify({ errors: [{ message: error.message, extensions: { code: 'SERVICE_UNAVAILABLE' } }] }));
        return null;
      }
      if (!(error instanceof AuthenticationError)) throw error;
      if (executesNothing) return null;
      log.warn('request refused: not authenticated', { reason: error.reason, requestId: requestIds.get(req) });
      // With CORS headers for an allowed origin, so that a browser client can read why it was refused.
      res.writeHead(401, { ...corsFor(req), 'content-type': 'application/json', 'www-authenticate': wwwAuthenticate(error) });
      res.end(JSON.stringify({ errors: [{ message: error.message, extensions: { code: 'UNAUTHENTICATED' } }] }));
      return null;
    }
  }

  let draining = false;
  const server = createServer((req, res) => {
    // One id per request, echoed on every answer whichever path writes it (yoga, direct, cache hit, 401/503 here):
    // Node merges headers set here into the ones a path passes to writeHead.
    const requestId = newRequestId(req.headers['x-request-id']);
    requestIds.set(req, requestId);
    res.setHeader('x-request-id', requestId);
    metrics.observeHttp(req, res);
    health(req, res)
      .then(async (handled) => {
        if (handled) return undefined;
        if (draining) {
          res.writeHead(503, { ...corsFor(req), 'content-type': 'application/json', 'retry-after': '1', connection: 'close' });
          res.end(JSON.stringify({ errors: [{ message: 'The server is shutting down; retry (another instance will answer).', extensions: { code: 'SERVICE_UNAVAILABLE' } }] }));
          return undefined;
        }
        // The voice page's static files: no tenant data; the page asks everything over graphql-ws, with its token.
        if (voicePage(req, res)) return undefined;
        // Static files and documentation that hold no tenant data: GraphiQL's files, the OpenAPI document, Swagger UI.
        if (graphiqlPage?.serveAsset(req, res) || (await rest.servePublic(req, res, yoga))) return undefined;
        const identity = await authenticated(req, res);
        if (!identity && res.headersSent) return undefined;
        // The cache key's tenant and roles are the ones contextFor gives the resolvers.
        if (responseCache && identity) return responseCache.handle(req, res, identity, answer, () => yoga.handle(req, res), maxBodyBytes);
        if (direct?.accepts(req)) return answerDirectly(req, res, direct);
        return yoga.handle(req, res);
      })
      .catch((error) => {
        if (error instanceof RequestBodyTooLargeError && !res.headersSent) {
          log.warn('request refused: body too large', { limit: error.limit, requestId });
          return sendBodyTooLarge(res, corsFor(req));
        }
        log.error('request failed', { requestId, error: (error as Error).message, stack: (error as Error).stack });
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ errors: [{ message: 'Internal server error' }] }));
      });
  });

  // graphql-ws shares yoga's envelop (schema, plugins, context, validation) on the same port and path.
  const graphqlWs = createGraphQLWebSocket({
    server,
    path: '/graphql',
    yoga,
    authenticate: async (request, authorization) => {
      const identity = await authenticator.authenticate(authorization);
      identities.set(request, identity);
      return identity;
    },
    log,
    maxPayloadBytes: maxBodyBytes,
    accepting: () => !draining,
    metrics: metrics.ws,
  });

  // The metrics port answers /metrics and nothing else, without authentication: keep it off the public network.
  const metricsServer =
    metricsPort === undefined
      ? null
      : createServer((req, res) => {
          if (req.url?.split('?')[0] !== '/metrics') {
            res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'not found' }));
            return;
          }
          metrics.serve(res).catch((error: unknown) => {
            log.error('metrics: scrape failed', { error: (error as Error).message });
            if (!res.headersSent) res.writeHead(500);
            res.end();
          });
        });

  let url = '';
  return {
    server,
    yoga,
    direct,
    metrics,
    metricsServer,
    start: async () => {
      if (metricsServer) {
        await new Promise<void>((resolve, reject) => {
          metricsServer.once('error', reject);
          metricsServer.listen(metricsPort, host, () => resolve());
        });
      }
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          const address = server.address() as AddressInfo;
          const shownHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
          url = `http://${shownHost}:${address.port}/graphql`;
          resolve(url);
        });
      });
    },
    drain: () => {
      draining = true;
    },
    stop: async () => {
      draining = true;
      await graphqlWs.dispose();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      if (metricsServer?.listening) {
        await new Promise<void>((resolve) => {
          metricsServer.close(() => resolve());
          metricsServer.closeAllConnections();
        });
      }
    },
  };
}
