// Opens the configured database (postgres.js for DATABASE_URL, else embedded PGlite under DATA_DIR, a new one unpacked
// from the install-time template where there is one) and migrates it.
import { existsSync, mkdirSync } from 'node:fs';
import { sql } from 'drizzle-orm';
import type { Config } from '../config';
import { type Database, type StatementObserver, createDatabase } from './client';
import { migrateDatabase } from './migrate';
import { isNewDataDir, pgliteTemplateFile, readPgliteTemplate } from './template';

/**
 * How the configured database comes up: a server (postgres), an embedded directory that already holds a database
 * (existing), or a new one unpacked from the install-time template (template) or made by initdb (initdb, slower).
 */
export function databaseStart(
  config: Pick<Config, 'DATABASE_URL' | 'DATA_DIR'>,
  templateFile = pgliteTemplateFile(),
): 'postgres' | 'existing' | 'template' | 'initdb' {
  if (config.DATABASE_URL) return 'postgres';
  if (!isNewDataDir(config.DATA_DIR)) return 'existing';
  return existsSync(templateFile) ? 'template' : 'initdb';
}

export async function openConfiguredDatabase(
  config: Pick<Config, 'DATABASE_URL' | 'DATA_DIR'> &
    Partial<Pick<Config, 'DATABASE_PREPARED_STATEMENTS' | 'DATABASE_POOL_SIZE' | 'DATABASE_CONNECT_TIMEOUT_S'>>,
  onQuery?: (q: string, p: unknown[]) => void,
  observeStatement?: StatementObserver,
): Promise<Database> {
  if (!config.DATABASE_URL && !config.DATA_DIR.startsWith('memory://')) mkdirSync(config.DATA_DIR, { recursive: true });
  const database = await createDatabase({
    url: config.DATABASE_URL,
    dataDir: config.DATA_DIR,
    pgliteTemplate: !config.DATABASE_URL && isNewDataDir(config.DATA_DIR) ? readPgliteTemplate() : undefined,
    onQuery,
    preparedStatements: config.DATABASE_PREPARED_STATEMENTS,
    maxConnections: config.DATABASE_POOL_SIZE,
    connectTimeoutSeconds: config.DATABASE_CONNECT_TIMEOUT_S,
    observeStatement,
  });
  try {
    await migrateDatabase(database);
  } catch (error) {
    await database.close();
    throw error;
  }
  return database;
}

/** True when no data was ever written to this database (no source has a change recorded). */
export async function isEmptyDatabase(database: Database): Promise<boolean> {
  const rows = await database.rows<{ any: boolean }>(sql`SELECT EXISTS (SELECT 1 FROM data_changes) AS any`);
  return !rows[0]?.any;
}
