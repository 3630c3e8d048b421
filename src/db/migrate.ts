// Applies the committed drizzle-kit migrations in migrations/ to either database, programmatically. On PostgreSQL the
// migrator runs under a session advisory lock, so replicas starting together migrate one after the other: drizzle's
// migrator (0.45) takes no lock, and two at once both apply the same migration or fail on each other's CREATE.
import { fileURLToPath } from 'node:url';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import { migrate as migratePostgres } from 'drizzle-orm/postgres-js/migrator';
import type { PgliteDatabase } from 'drizzle-orm/pglite';
import type postgres from 'postgres';
import type { Database } from './client';

export const migrationsFolder = fileURLToPath(new URL('../../migrations', import.meta.url));

/** pg_advisory_lock key for schema changes by this application (its migrations and the agent memory's tables). */
export const SCHEMA_LOCK_KEY = 7_265_786_301_248_102_001n;

/**
 * A reserved postgres.js connection as drizzle's client. A reserved connection has neither `begin` (the migrator runs
 * its migrations in one transaction: this one runs BEGIN … COMMIT on the same connection) nor the `options` drizzle
 * reads its type parsers from (its pool's).
 */
function asClient(reserved: postgres.ReservedSql, pool: postgres.Sql): postgres.Sql {
  const begin = async (fn: (sql: postgres.ReservedSql) => unknown) => {
    await reserved.unsafe('BEGIN');
    try {
      const result = await fn(reserved);
      await reserved.unsafe('COMMIT');
      return result;
    } catch (error) {
      await reserved.unsafe('ROLLBACK').catch(() => {});
      throw error;
    }
  };
  return new Proxy(reserved, { get: (target, property, receiver) => (property === 'begin' ? begin : property === 'options' ? pool.options : Reflect.get(target, property, receiver)) }) as unknown as postgres.Sql;
}

/** Runs `fn` on one reserved connection while it holds the schema lock; waits for whoever holds it. */
export async function withSchemaLock<T>(sql: postgres.Sql, fn: (reserved: postgres.ReservedSql) => Promise<T>): Promise<T> {
  const reserved = await sql.reserve();
  try {
    await reserved`SELECT pg_advisory_lock(${SCHEMA_LOCK_KEY.toString()}::bigint)`;
    try {
      return await fn(reserved);
    } finally {
      // If the connection died, its session's lock went with it.
      await reserved`SELECT pg_advisory_unlock(${SCHEMA_LOCK_KEY.toString()}::bigint)`.catch(() => {});
    }
  } finally {
    reserved.release();
  }
}

export async function migrateDatabase(database: Database): Promise<void> {
  if (database.kind === 'pglite') {
    // One process per embedded database (lock.ts): nothing to serialise.
    await migratePglite(database.db as unknown as PgliteDatabase, { migrationsFolder });
    return;
  }
  if (!database.sql) throw new Error('internal: a postgres Database without its client');
  await withSchemaLock(database.sql, (reserved) => migratePostgres(drizzlePostgres(asClient(reserved, database.sql!)), { migrationsFolder }));
}
