// Database connections: PGlite (embedded, default) or postgres.js (a real server), behind one drizzle type.
import { PGlite } from '@electric-sql/pglite';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import { type PgDatabase, PgDialect, type PgQueryResultHKT } from 'drizzle-orm/pg-core';
import type { SQL } from 'drizzle-orm';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
import { lockDataDir, dataDirPath } from './lock';
import * as schema from './schema';

export type Db = PgDatabase<PgQueryResultHKT, typeof schema>;

export interface Database {
  db: Db;
  kind: 'pglite' | 'postgres';
  /** The embedded instance, when kind is 'pglite'. */
  pglite?: PGlite;
  /** The postgres.js client, when kind is 'postgres'. */
  sql?: postgres.Sql;
  /** Runs raw SQL and returns its rows, whichever driver is underneath. */
  rows<T = Record<string, unknown>>(query: SQL): Promise<T[]>;
  /**
   * Raw SQL whose text is built once: `build` writes it with sql.placeholder('name') wherever a value goes, and each
   * call runs it with that call's values. For hot queries, building SQL costs more CPU than the driver does.
   */
  statement<T = Record<string, unknown>>(build: () => SQL): (values?: Record<string, unknown>) => Promise<T[]>;
  /** Runs one statement of the data path, reported to `observeStatement` (SQL time and statements in flight). */
  timed<T>(run: () => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** Called as a statement starts; the function it returns, as it ends. */
export type StatementObserver = () => (failed: boolean) => void;

export interface DatabaseOptions {
  /** postgres:// URL; without it the embedded database is used. */
  url?: string;
  /** PGlite data directory; 'memory://' (or undefined) keeps it in memory. */
  dataDir?: string;
  /** An existing PGlite instance (e.g. a clone of a migrated template). */
  pglite?: PGlite;
  /** A new `dataDir` starts as this dumped data directory (template.ts) rather than from initdb. */
  pgliteTemplate?: Blob;
  /** Called with every SQL statement drizzle sends (statement counting, debug logging). */
  onQuery?: (query: string, params: unknown[]) => void;
  /** postgres.js pool size. */
  maxConnections?: number;
  /** Seconds postgres.js waits for a new connection before the query fails (postgres.js's own default is 30). */
  connectTimeoutSeconds?: number;
  /**
   * Server-side prepared statements for every query (default true). drizzle sends its queries unnamed, which costs a
   * Parse + Describe round trip and a fresh plan per execution; named statements are parsed once per connection.
   * Turn off behind a pooler that cannot keep them (PgBouncer in transaction mode before 1.21).
   */
  preparedStatements?: boolean;
  /** A layer around the postgres.js client drizzle talks to (bench/rls.ts runs each query in a tenant transaction). */
  wrapClient?: (sql: postgres.Sql) => postgres.Sql;
  /** Times the statements of the data path (rows, statement, timed): the server's metrics. */
  observeStatement?: StatementObserver;
}

export const pgliteExtensions = { pg_trgm };

/** `template`: a dumped data directory (template.ts) unpacked into a new `dataDir` instead of running initdb there. */
export async function openPglite(dataDir?: string, template?: Blob): Promise<PGlite> {
  return PGlite.create(dataDir ?? 'memory://', { extensions: pgliteExtensions, ...(template ? { loadDataDir: template } : {}) });
}

/**
 * The client drizzle talks to, with one change: `unsafe` (drizzle's only way of running a query) prepares the statement
 * or not as configured, whatever drizzle asked (drizzle prepares only queries it was told to name). postgres.js keeps
 * one named statement per SQL text and connection, and our SQL texts are a bounded set (values always travel as
 * parameters), so the statements stay few.
 */
function choosingPrepare(sql: postgres.Sql, prepare: boolean): postgres.Sql {
  const unsafe: postgres.Sql['unsafe'] = (query, parameters, queryOptions) => sql.unsafe(query, parameters, { ...queryOptions, prepare });
  return new Proxy(sql, { get: (target, property, receiver) => (property === 'unsafe' ? unsafe : Reflect.get(target, property, receiver)) });
}

/** Database.timed: the statement's start and end reported to the observer, if any. */
function timerOf(observe: StatementObserver | undefined): Database['timed'] {
  if (!observe) return (run) => run();
  return async (run) => {
    const end = observe();
    try {
      const result = await run();
      end(false);
      return result;
    } catch (error) {
      end(true);
      throw error;
    }
  };
}

/** Database.statement over a drizzle session; `rowsOf` turns the driver's answer into rows. */
function statementsOf(db: Db, rowsOf: (result: unknown) => unknown[], timed: Database['timed']): Database['statement'] {
  const dialect = new PgDialect();
  return <T>(build: () => SQL) => {
    let prepared: { execute(values?: Record<string, unknown>): Promise<unknown> } | undefined;
    return async (values = {}) => {
      prepared ??= db._.session.prepareQuery(dialect.sqlToQuery(build()), undefined, undefined, false);
      const statement = prepared;
      return rowsOf(await timed(() => statement.execute(values))) as T[];
    };
  };
}

export async function createDatabase(options: DatabaseOptions = {}): Promise<Database> {
  const logger = options.onQuery ? { logQuery: options.onQuery } : undefined;
  const timed = timerOf(options.observeStatement);
  if (options.url) {
    const sql = postgres(options.url, {
      max: options.maxConnections ?? 10,
      connect_timeout: options.connectTimeoutSeconds ?? 5,
      onnotice: () => {},
      connection: { application_name: 'universal-data-connector' },
    });
    const prepared = choosingPrepare(sql, options.preparedStatements !== false);
    const client = options.wrapClient ? options.wrapClient(prepared) : prepared;
    const db = drizzlePostgres(client, { schema, logger }) as unknown as Db;
    return {
      db,
      kind: 'postgres',
      sql,
      rows: async <T>(query: SQL) => (await timed(() => db.execute(query))) as unknown as T[],
      statement: statementsOf(db, (result) => result as unknown[], timed),
      timed,
      close: () => sql.end({ timeout: 5 }),
    };
  }
  // A data directory on disk belongs to one process at a time (lock.ts); a given instance is the caller's to manage.
  const dir = options.pglite ? undefined : dataDirPath(options.dataDir);
  const lock = dir ? lockDataDir(dir) : undefined;
  let pglite: PGlite;
  try {
    pglite = options.pglite ?? (await openPglite(options.dataDir, options.pgliteTemplate));
  } catch (error) {
    lock?.release();
    throw error;
  }
  const db = drizzlePglite(pglite, { schema, logger }) as unknown as Db;
  return {
    db,
    kind: 'pglite',
    pglite,
    rows: async <T>(query: SQL) => ((await timed(() => db.execute(query))) as unknown as { rows: T[] }).rows,
    statement: statementsOf(db, (result) => (result as { rows: unknown[] }).rows, timed),
    timed,
    close: async () => {
      try {
        if (!pglite.closed) await pglite.close();
      } finally {
        lock?.release();
      }
    },
  };
}
