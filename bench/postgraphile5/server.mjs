// The second anchor: PostGraphile v5 (grafast) with postgraphile-plugin-connection-filter, as a library on node's http
// server, over a PostgreSQL database holding the same data. It speaks the same protocol as bench/server.ts and
// bench/postgraphile-server.ts (prints "READY <url>", answers "stats" over IPC), so bench/server-process.ts drives it.
// Plain JavaScript with its own package.json: PostGraphile v5 needs Node 22 or newer, and its packages (graphile-build
// 5, pg-sql2 5, ...) cannot sit beside v4's in the project's node_modules. bench/run.ts installs this folder and runs
// this file on a Node 22 binary.
//
// Authentication (--auth), as for v4:
// - gate (default): the bearer JWT is verified in front of PostGraphile (../anchor-process.mjs), which then runs each
//   query with no transaction: PostGraphile's fastest configuration with a verified token.
// - jwt: PostGraphile's PgLazyJWTPreset verifies the token and puts its claims into `jwt.claims.*` settings, so every
//   request runs in a transaction that sets them (what PostGraphile's docs set up for RLS).
// - none: no token checked.
import pg from 'pg';
import { postgraphile } from 'postgraphile';
import { makePgService } from 'postgraphile/adaptors/pg';
import { grafserv } from 'postgraphile/grafserv/node';
import { PostGraphileAmberPreset } from 'postgraphile/presets/amber';
import { PgLazyJWTPreset } from 'postgraphile/presets/lazy-jwt';
import { PostGraphileConnectionFilterPreset } from 'postgraphile-plugin-connection-filter';
import { anchorOptions, serveAnchor } from '../anchor-process.mjs';

const options = anchorOptions();
const { mode, secret } = options;

// Same pool size as our server's postgres.js client (10).
const pool = new pg.Pool({ connectionString: options.url, max: 10 });
const preset = {
  extends: [PostGraphileAmberPreset, PostGraphileConnectionFilterPreset, ...(mode === 'jwt' ? [PgLazyJWTPreset] : [])],
  // v5 offers filters and orders only on indexed columns (PgIndexBehaviorsPlugin); v4's default (ignoreIndexes) offers
  // them on every column, and the question filters tickets by priority, which no index leads with.
  disablePlugins: ['PgIndexBehaviorsPlugin'],
  pgServices: [makePgService({ pool, schemas: ['public'] })],
  grafserv: {
    graphqlPath: '/graphql',
    graphiql: false,
    watch: false,
    // Our tokens carry no audience (the preset expects "postgraphile" unless told otherwise).
    ...(mode === 'jwt' ? { pgJwtSecret: secret, pgJwtVerifyOptions: { algorithms: ['HS256'], audience: undefined } } : {}),
  },
  grafast: { explain: false },
};
const pgl = postgraphile(preset);
const serv = pgl.createServ(grafserv);
// createHandler (not addTo) so that the gate can answer 401 in front of it, as it does in front of v4's middleware.
const handler = serv.createHandler();

await pgl.getSchema();
await serveAnchor({
  name: 'PostGraphile v5',
  options,
  handle: handler,
  release: async () => {
    await pgl.release();
    await pool.end();
  },
});
