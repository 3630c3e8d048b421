// A REST view of the same schema for curl and Swagger users: SOFA (@graphql-yoga/plugin-sofa) turns each root field
// into a route under /rest, executed through yoga's envelop, so it gets the same context (tenant, roles), plugins
// (roles, allow-list, error masking, metrics) and zod-validated arguments as a GraphQL request. app.ts authenticates
// every /rest request before yoga, like every other path.
//
//   GET  /rest/customers?filter[status]=ACTIVE&first=5    GET /rest/customers/7
//   GET  /rest/tickets?filter[status]=OPEN&filter[priority]=HIGH&orderBy=NEWEST_FIRST
//   GET  /rest/tickets/12   GET /rest/metrics?filter[metric]=revenue   GET /rest/metrics/summary?metric=revenue&lastDays=30
//   POST /rest/voice/turns  {"input":{"text":"How many open tickets?"}}
//
// Input objects are given as `filter[field]=value` (or `filter={"status":"ACTIVE"}`, JSON). Answers are the field's
// value as JSON (a connection: nodes, edges, pageInfo, totalCount, voiceSummary, metadata). Errors are
// `{ "errors": [{ "message", "extensions": { "code" } }] }` with a status from the code: 400 BAD_USER_INPUT,
// 401/403, 404 (a record that does not exist), 429, 503; never a stack trace.
//
// Public without a token (no tenant data; like the GraphiQL page): the OpenAPI document at /rest/openapi.json while
// introspection is on, and Swagger UI at /rest/docs (from swagger-ui-dist, no CDN) while GraphiQL is on.
//
// Left out on purpose: SOFA's /rest/webhook routes (they would make this server POST subscription events to any URL a
// caller names); follow voice events with a GraphQL subscription instead.
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { GraphQLError, type GraphQLSchema } from 'graphql';
import type { Plugin, YogaServerInstance } from 'graphql-yoga';
import type { useSofa } from '@graphql-yoga/plugin-sofa';
import type { Logger } from '../logger';
import type { GraphQLContext } from '../schema/context';
import { cachedFile, sendAsset } from './graphiql';

export const REST_BASE_PATH = '/rest';

/** Paths of the routes (SOFA's defaults are /customer?customerId=…, /metric-summary, …). */
const ROUTES = {
  'Query.customers': { path: '/customers', tags: ['Customers'] },
  'Query.customer': { path: '/customers/:customerId', tags: ['Customers'] },
  'Query.tickets': { path: '/tickets', tags: ['Tickets'] },
  'Query.ticket': { path: '/tickets/:ticketId', tags: ['Tickets'] },
  'Query.metrics': { path: '/metrics', tags: ['Metrics'] },
  'Query.metricSummary': { path: '/metrics/summary', tags: ['Metrics'] },
  'Query.metricNames': { path: '/metrics/names', tags: ['Metrics'] },
  'Query.node': { path: '/nodes/:id', tags: ['Nodes'] },
  'Query.voiceCapabilities': { path: '/voice/capabilities', tags: ['Voice'] },
  'Query.voiceSession': { path: '/voice/sessions/:sessionId', tags: ['Voice'] },
  'Mutation.voiceTurn': { path: '/voice/turns', tags: ['Voice'] },
  'Mutation.cancelVoiceTurn': { path: '/voice/turns/cancel', tags: ['Voice'] },
} as const;

/** Routes that answer one record, or 404 when there is none (GraphQL answers null). */
const ONE_RECORD = /^\/(customers|tickets|nodes|voice\/sessions)\/[^/]+$/;

/** HTTP status of each error code (app.ts and auth.ts answer 401 before this; kept for completeness). */
const STATUS: Record<string, number> = {
  BAD_USER_INPUT: 400,
  GRAPHQL_VALIDATION_FAILED: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  OPERATION_NOT_ALLOWED: 403,
  NOT_FOUND: 404,
  RATE_LIMITED: 429,
  VOICE_DISABLED: 501,
  SERVICE_UNAVAILABLE: 503,
  INTERNAL_SERVER_ERROR: 500,
};

/** Swagger UI's files served under /rest/docs/assets/<version>/. */
const SWAGGER_FILES: Record<string, string> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
  'favicon-32x32.png': 'image/png',
  'favicon-16x16.png': 'image/png',
};

export interface RestApiOptions {
  log: Logger;
  title?: string;
  /** Serve /rest/openapi.json (follow the introspection setting: it describes the whole schema). */
  openApi?: boolean;
  /** Serve Swagger UI at /rest/docs (follow the GraphiQL setting). */
  docs?: boolean;
}

export interface RestApi {
  /** The yoga plugin answering /rest/… (after app.ts has authenticated the request). */
  plugin: Plugin<GraphQLContext>;
  /** Answers the public documentation paths (OpenAPI document, Swagger UI and its files); false for any other path. */
  servePublic(req: IncomingMessage, res: ServerResponse, yoga: { fetch(url: string, init?: RequestInit): Response | Promise<Response> }): Promise<boolean>;
  /** The URLs of the files the Swagger UI page loads. */
  docsAssetUrls(): string[];
}

interface ErrorBody {
  message: string;
  path?: readonly (string | number)[];
  extensions: Record<string, unknown>;
}

export function createRestApi({ log, title = 'Universal Data Connector', openApi = true, docs = true }: RestApiOptions): RestApi {
  const base = REST_BASE_PATH;
  // Marks the app's own request for the OpenAPI document: a client's request for it never reaches SOFA.
  const internal = randomUUID();
  let fetchAPI: { Response: typeof Response } = globalThis;

  /** The answer for errors of a REST request: the status of the gravest, and the errors without internals. */
  function errorResponse(errors: readonly unknown[]): Response {
    let status = 0;
    const headers: Record<string, string> = { 'content-type': 'application/json; charset=utf-8' };
    const body: ErrorBody[] = errors.map((error) => {
      if (error instanceof GraphQLError) {
        const { http, ...extensions } = error.extensions as { http?: { status?: number; headers?: Record<string, string> }; code?: string; retryAfterSeconds?: number };
        // SOFA's own argument errors (a bad JSON body or filter, "abc" for an Int) carry only http.status 400.
        const code = extensions.code ?? (http?.status === 400 ? 'BAD_USER_INPUT' : undefined);
        if (code) {
          status = Math.max(status, http?.status ?? STATUS[code] ?? 400);
          if (http?.headers) Object.assign(headers, http.headers);
          if (code === 'RATE_LIMITED' && extensions.retryAfterSeconds) headers['retry-after'] = String(extensions.retryAfterSeconds);
          return { message: error.message, ...(error.path ? { path: error.path } : {}), extensions: { ...extensions, code } };
        }
      }
      // Not one of ours (the masking plugin codes every error of an execution): say nothing about it.
      log.error('rest: unexpected error', { error: (error as Error)?.message, stack: (error as Error)?.stack });
      status = Math.max(status, 500);
      return { message: 'Internal server error; it has been logged.', extensions: { code: 'INTERNAL_SERVER_ERROR' } };
    });
    return new fetchAPI.Response(JSON.stringify({ errors: body }), { status: status || 500, headers });
  }

  const notFound = (message: string) =>
    new fetchAPI.Response(JSON.stringify({ errors: [{ message, extensions: { code: 'NOT_FOUND' } }] }), {
      status: 404,
      headers: { 'content-type': 'application/json; charset=utf-8' },
    });

  // SOFA is loaded and its routes built on the first /rest request (about 0.5 s of imports and 0.3 s per app here):
  // a server, or a test, that never uses REST does not pay for it.
  let yoga: YogaServerInstance<Record<string, unknown>, GraphQLContext> | null = null;
  let schema: GraphQLSchema | null = null;
  let sofa: Promise<Plugin<GraphQLContext>> | null = null;
  let sofaSchema: GraphQLSchema | null = null;
  const loadSofa = async () => {
    const { useSofa: createSofaPlugin } = await import('@graphql-yoga/plugin-sofa');
    const loaded = createSofaPlugin(sofaOptions) as unknown as Plugin<GraphQLContext>;
    loaded.onYogaInit?.({ yoga: yoga! } as never);
    return loaded;
  };
  /** SOFA, its routes built for the current schema. */
  const sofaFor = async () => {
    sofa ??= loadSofa();
    sofa.catch(() => {
      sofa = null;
    });
    const loaded = await sofa;
    if (sofaSchema !== schema) {
      loaded.onSchemaChange?.({ schema: schema!, replaceSchema: () => {} } as never);
      sofaSchema = schema;
    }
    return loaded;
  };

  const sofaOptions: Parameters<typeof useSofa>[0] = {
    basePath: base,
    routes: ROUTES as unknown as Record<string, { path: string; tags: string[] }>,
    openAPI: {
      endpoint: '/openapi.json',
      info: {
        title: `${title} REST API`,
        version: '1',
        description:
          'The GraphQL API at /graphql as REST routes (generated by SOFA). Lists take the same arguments as their GraphQL fields; ' +
          'give input objects as filter[field]=value. Send `Authorization: Bearer <token>` when the server has auth on.',
      },
      components: { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearerAuth: [] }],
    } as never,
    // fets' own Swagger UI page loads its files from unpkg and jsdelivr; /rest/docs below serves them from here.
    swaggerUI: { endpoint: false },
    errorHandler: errorResponse as never,
  };

  const plugin: Plugin<GraphQLContext> = {
    onYogaInit(payload) {
      fetchAPI = payload.yoga.fetchAPI;
      yoga = payload.yoga as typeof yoga;
    },
    onSchemaChange(payload) {
      schema = payload.schema;
    },
    onRequest(payload) {
      const { pathname } = payload.url;
      if (pathname !== base && !pathname.startsWith(`${base}/`)) return undefined;
      const route = pathname.slice(base.length);
      const own = payload.request.headers.get('x-udc-internal') === internal;
      if (/^\/webhook(\/|$)/.test(route) || (route === '/openapi.json' && !own)) {
        payload.endResponse(notFound(`No route ${pathname}`));
        return undefined;
      }
      let answer: Response | undefined;
      return sofaFor().then(async (loaded) => {
        await loaded.onRequest!({ ...payload, endResponse: (response: Response) => (answer = response) } as never);
        if (!answer) answer = notFound(`No route ${payload.request.method} ${pathname}; the routes are in ${base}/openapi.json`);
        else if (ONE_RECORD.test(route) && answer.status === 200 && (await answer.clone().text()).trim() === 'null') {
          answer = notFound(`No record at ${pathname}`);
        }
        payload.endResponse(answer);
      });
    },
  };

  // Swagger UI from the installed swagger-ui-dist, under its version.
  const swaggerDir = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
  const swaggerVersion = (createRequire(import.meta.url)('swagger-ui-dist/package.json') as { version: string }).version;
  const assetsBase = `${base}/docs/assets/${swaggerVersion}`;
  const swaggerBodies = Object.fromEntries(Object.keys(SWAGGER_FILES).map((file) => [file, cachedFile(() => readFile(join(swaggerDir, file)))]));

  const docsPage = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>${title} REST API</title>
    <link rel="icon" type="image/png" href="${assetsBase}/favicon-32x32.png" />
    <link rel="stylesheet" href="${assetsBase}/swagger-ui.css" />
  </head>
  <body>
    <div id="swagger-ui"></div>
    <script src="${assetsBase}/swagger-ui-bundle.js"></script>
    <script>
      window.ui = SwaggerUIBundle({ url: '${base}/openapi.json', dom_id: '#swagger-ui', deepLinking: true, validatorUrl: null });
    </script>
  </body>
</html>
`;

  // The document SOFA generates, asked for once, through yoga (it does not depend on the caller).
  let document: Promise<string> | null = null;
  const openApiDocument = (yoga: Parameters<RestApi['servePublic']>[2]) => {
    document ??= Promise.resolve(yoga.fetch(`http://localhost${base}/openapi.json`, { headers: { 'x-udc-internal': internal } })).then(async (response) => {
      if (!response.ok) throw new Error(`OpenAPI document: ${response.status}`);
      type Parameter = { in: string; schema?: { $ref?: string }; style?: string; explode?: boolean };
      const doc = (await response.json()) as {
        servers?: unknown;
        paths?: Record<string, Record<string, { parameters?: Parameter[] }>>;
        components?: { schemas?: Record<string, { type?: string }> };
      };
      // Relative to wherever the server is reached (a proxy's host included).
      doc.servers = [{ url: base }];
      // Input objects in the query string as filter[status]=OPEN (what SOFA reads), so Swagger UI's "Try it out" sends
      // them that way rather than as bare status=OPEN.
      for (const operations of Object.values(doc.paths ?? {})) {
        for (const parameter of Object.values(operations).flatMap((operation) => operation.parameters ?? [])) {
          const type = parameter.schema?.$ref?.split('/').pop();
          if (parameter.in === 'query' && type && doc.components?.schemas?.[type]?.type === 'object') Object.assign(parameter, { style: 'deepObject', explode: true });
        }
      }
      return JSON.stringify(doc);
    });
    document.catch(() => {
      document = null;
    });
    return document;
  };

  async function servePublic(req: IncomingMessage, res: ServerResponse, yoga: Parameters<RestApi['servePublic']>[2]): Promise<boolean> {
    const path = req.url?.split('?')[0] ?? '';
    if (path === `${base}/openapi.json`) {
      if (!openApi) {
        res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ errors: [{ message: 'The OpenAPI document is off on this server (introspection is off).', extensions: { code: 'NOT_FOUND' } }] }));
        return true;
      }
      const body = await openApiDocument(yoga);
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-cache' }).end(body);
      return true;
    }
    if (path === `${base}/docs` || path === `${base}/docs/`) {
      if (!docs || !openApi) {
        res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ errors: [{ message: 'Swagger UI is off on this server.', extensions: { code: 'NOT_FOUND' } }] }));
        return true;
      }
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-cache' }).end(docsPage);
      return true;
    }
    if (path.startsWith(`${base}/docs/`)) {
      const file = path.slice(assetsBase.length + 1);
      const known = docs && path.startsWith(`${assetsBase}/`) && Object.hasOwn(SWAGGER_FILES, file);
      sendAsset(req, res, known ? { contentType: SWAGGER_FILES[file], body: swaggerBodies[file] } : null, log);
      return true;
    }
    return false;
  }

  return { plugin, servePublic, docsAssetUrls: () => Object.keys(SWAGGER_FILES).map((file) => `${assetsBase}/${file}`) };
}
