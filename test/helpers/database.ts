// Test databases: a fresh, migrated database per call. PGlite by default (each unpacked from the install-time template
// of src/db/template.ts when npm's postinstall made one, else a clone of one database migrated per worker); a new
// PostgreSQL database on the server of DATABASE_URL when it is set (dropped on close).
import { randomBytes } from 'node:crypto';
import type { PGlite } from '@electric-sql/pglite';
import postgres from 'postgres';
import { type Database, type StatementObserver, createDatabase, openPglite } from '../../src/db/client';
import { migrateDatabase } from '../../src/db/migrate';
import { readPgliteTemplate } from '../../src/db/template';

export const usingPostgres = !!process.env.DATABASE_URL;
export const databaseKind = usingPostgres ? 'postgres' : 'pglite';

let template: Promise<PGlite> | undefined;
let installedTemplate: Blob | undefined | null;

async function migratedTemplate(): Promise<PGlite> {
  const pglite = await openPglite();
  const database = await createDatabase({ pglite });
  await migrateDatabase(database);
  return pglite;
}

export interface TestDatabase extends Database {
  /** The postgres:// URL of this database (PostgreSQL only), for clients such as checkpointers. */
  url?: string;
  name?: string;
}

export async function createTestDatabase(
  options: { onQuery?: (query: string, params: unknown[]) => void; observeStatement?: StatementObserver } = {},
): Promise<TestDatabase> {
  if (!usingPostgres) {
    // Unpacking the install-time template costs what a clone does, without the 2-3 s initdb of a worker's own one.
    if (installedTemplate === undefined) installedTemplate = readPgliteTemplate() ?? null;
    if (!installedTemplate) template ??= migratedTemplate();
    const pglite = installedTemplate ? await openPglite(undefined, installedTemplate) : ((await (await template!).clone()) as PGlite);
    return createDatabase({ pglite, onQuery: options.onQuery, observeStatement: options.observeStatement });
  }
  const empty = await emptyPostgresDatabase();
  const database = await createDatabase({ url: empty.url, onQuery: options.onQuery, observeStatement: options.observeStatement, maxConnections: 10 });
  await migrateDatabase(database);
  return {
    ...database,
    url: empty.url,
    name: empty.name,
    close: async () => {
      await database.close();
      await empty.drop();
    },
  };
}

/** A new, empty (unmigrated) database on DATABASE_URL's server; `drop` removes it whoever is connected. */
export async function emptyPostgresDatabase(): Promise<{ url: string; name: string; drop(): Promise<void> }> {
  const adminUrl = process.env.DATABASE_URL!;
  const name = `udc_test_${randomBytes(6).toString('hex')}`;
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    drop: async () => {
      const dropper = postgres(adminUrl, { max: 1, onnotice: () => {} });
      await dropper.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await dropper.end();
    },
  };
}
