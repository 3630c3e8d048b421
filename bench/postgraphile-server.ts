// The anchor: PostGraphile v4 with postgraphile-plugin-connection-filter (what a user would pick instead of this
// product) as a library on node's http server, over a PostgreSQL database holding the same data. Prints
// "READY <url>" on stdout and answers "stats" over IPC like bench/server.ts, so server-process.ts drives both.
//
// Authentication (--auth):
// - gate (default): the bearer JWT is verified in front of PostGraphile (anchor-process.mjs), which then runs each
//   query with no transaction: PostGraphile's fastest configuration with a verified token.
// - jwt: PostGraphile's own `jwtSecret`: it verifies the token and puts its claims into `jwt.claims.*` settings, so
//   every request runs BEGIN; select set_config(...); the query; COMMIT (what PostGraphile's docs set up for RLS).
// - none: no token checked.
import Module, { createRequire } from 'node:module';
import { dirname } from 'node:path';
import pg from 'pg';
import { anchorOptions, serveAnchor } from './anchor-process.mjs';

// One graphql for all of PostGraphile. npm installs PostGraphile's graphql 15 twice (under postgraphile/ and
// graphile-build-pg/) beside our graphql 16 at the top, and graphql-parse-resolve-info, hoisted to the top, picks 16:
// every query then fails with 'Cannot use GraphQLScalarType "Int" from another module or realm'. In this process
// (PostGraphile's alone) every require of graphql resolves to postgraphile's own copy.
const require = createRequire(import.meta.url);
const graphqlDir = dirname(require.resolve('graphql/package.json', { paths: [dirname(require.resolve('postgraphile/package.json'))] }));
type Resolve = (request: string, parent: unknown, ...rest: unknown[]) => string;
const internals = Module as unknown as { _resolveFilename: Resolve };
const resolveFilename = internals._resolveFilename;
internals._resolveFilename = function (request, parent, ...rest) {
  if (request === 'graphql' || request.startsWith('graphql/')) request = graphqlDir + request.slice('graphql'.length);
  return resolveFilename.call(this, request, parent, ...rest);
};
const { postgraphile } = require('postgraphile') as typeof import('postgraphile');
const ConnectionFilterPlugin = require('postgraphile-plugin-connection-filter') as typeof import('postgraphile-plugin-connection-filter');

const { url, mode, secret } = anchorOptions();

// Same pool size as our server's postgres.js client (10).
const pool = new pg.Pool({ connectionString: url, max: 10 });
const middleware = postgraphile(pool, 'public', {
  appendPlugins: [ConnectionFilterPlugin],
  graphqlRoute: '/graphql',
  graphiql: false,
  watchPg: false,
  disableQueryLog: true,
  retryOnInitFail: false,
  enableQueryBatching: false,
  dynamicJson: true,
  setofFunctionsContainNulls: false,
  ignoreRBAC: false,
  legacyRelations: 'omit',
  // Our tokens carry no audience (PostGraphile expects "postgraphile" unless told otherwise: an empty list checks none).
  ...(mode === 'jwt' ? { jwtSecret: secret, jwtVerifyOptions: { algorithms: ['HS256'], audience: [] as unknown as string } } : {}),
});

// PostGraphile builds its schema on the first request (introspection): serveAnchor asks once before saying READY.
await serveAnchor({ name: 'PostGraphile v4', options: { url, mode, secret }, handle: (req, res) => void middleware(req, res), release: () => pool.end() });
