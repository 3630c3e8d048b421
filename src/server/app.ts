// buildApp: one HTTP server with yoga at /graphql (GraphiQL included), graphql-ws on the same port and path,
// /health and /ready, and a clean stop. Everything it uses is passed in: no module-level state.
import { randomUUID } from 'node:crypto';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sql } from 'drizzle-orm';
import { type Plugin, createYoga } from 'graphql-yoga';
import type { Database } from '../db/client';
import { bufferedHeaders, readBody, requestUrl, sendResponse } from './buffered';
import type { ResponseCache } from './cache';
import { createSchema } from '../schema';
import type { AppServices, GraphQLContext } from './context';
import { type DirectExecution, createDirectExecution, hasOnlyEnvelopHooks } from './direct';
import { maskUnexpectedErrors } from './errors';
import { EXAMPLE_QUERY } from './example-query';
import { shareSubscriptionResults } from './shared-subscriptions';
import { createGraphQLWebSocket } from './ws';

export interface AppOptions {
  services: AppServices;
  database: Database;
  port?: number;
  host?: string;
  /** Extra envelop/yoga plugins (caching, auth, tracing). */
  plugins?: Plugin<GraphQLContext>[];
  /** Serves repeated queries from memory until the tenant's data changes (see cache.ts). */
  responseCache?: ResponseCache;
}

export interface App {
  /** Listens; resolves with the URL of the GraphQL endpoint. */
  start(): Promise<string>;
  stop(): Promise<void>;
  server: Server;
  yoga: ReturnType<typeof createYoga<Record<string, unknown>, GraphQLContext>>;
  /** Direct execution of ordinary requests (direct.ts); null when a plugin needs yoga's HTTP hooks. */
  direct: DirectExecution | null;
}

export function buildApp({ services, database, port = 4000, host = '0.0.0.0', plugins = [], responseCache }: AppOptions): App {
  const { log } = services;
  const schema = createSchema();
  const contextFor = (requestId?: string | null): GraphQLContext => ({
    ...services,
    requestId: requestId && /^[\w.:-]{1,100}$/.test(requestId) ? requestId : randomUUID(),
  });

  const yoga = createYoga<Record<string, unknown>, GraphQLContext>({
    schema,
    graphqlEndpoint: '/graphql',
    // voiceTurn carries up to 25 MB of audio as base64 (about 34 MB of JSON); the argument check names the 25 MB limit.
    maxRequestBodySize: 36 * 1024 * 1024,
    landingPage: false,
    graphiql: { title: 'Universal Data Connector', defaultQuery: EXAMPLE_QUERY },
    context: ({ request }) => contextFor(request?.headers.get('x-request-id')),
    plugins: [maskUnexpectedErrors(log), ...plugins, ...(responseCache ? [responseCache.plugin] : []), shareSubscriptionResults()],
    // Our plugin already replaced unexpected errors; yoga's masking stays on as a second net.
    maskedErrors: true,
    logging: {
      debug: (...args) => log.debug(String(args[0]), { args: args.slice(1).map(String) }),
      info: (...args) => log.info(String(args[0])),
      warn: (...args) => log.warn(String(args[0])),
      error: (...args) => log.error(String(args[0]), { args: args.slice(1).map(String) }),
    },
  });

  async function health(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    const path = req.url?.split('?')[0];
    if (path === '/health') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 'ok' }));
      return true;
    }
    if (path === '/ready') {
      try {
        await database.rows(sql`SELECT 1`);
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 'ready', database: database.kind }));
      } catch (error) {
        log.warn('readiness check failed', { error: (error as Error).message });
        res.writeHead(503, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 'unavailable', database: database.kind }));
      }
      return true;
    }
    return false;
  }

  // Ordinary queries skip yoga's Fetch-API emulation (direct.ts) unless a plugin needs yoga's HTTP hooks.
  const direct = plugins.every(hasOnlyEnvelopHooks) ? createDirectExecution({ yoga, endpoint: '/graphql' }) : null;
  const answer = direct ?? yoga;
  async function answerDirectly(req: IncomingMessage, res: ServerResponse, via: NonNullable<typeof direct>) {
    const body = await readBody(req);
    await sendResponse(res, await via.fetch(requestUrl(req), { method: 'POST', headers: bufferedHeaders(req.headers), body }, { req, res }));
  }

  const server = createServer((req, res) => {
    health(req, res)
      .then((handled) => {
        if (handled) return undefined;
        // The cache key's tenant must be the one contextFor gives the resolvers.
        if (responseCache) return responseCache.handle(req, res, services.tenantId, answer, () => yoga.handle(req, res));
        if (direct?.accepts(req)) return answerDirectly(req, res, direct);
        return yoga.handle(req, res);
      })
      .catch((error) => {
        log.error('request failed', { error: (error as Error).message, stack: (error as Error).stack });
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ errors: [{ message: 'Internal server error' }] }));
      });
  });

  // graphql-ws shares yoga's envelop (schema, plugins, context, validation) on the same port and path.
  const graphqlWs = createGraphQLWebSocket({ server, path: '/graphql', yoga, contextFor, log });

  let url = '';
  return {
    server,
    yoga,
    direct,
    start: () =>
      new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          const address = server.address() as AddressInfo;
          const shownHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
          url = `http://${shownHost}:${address.port}/graphql`;
          resolve(url);
        });
      }),
    stop: async () => {
      await graphqlWs.dispose();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
