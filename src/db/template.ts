// The embedded database's template: an empty, migrated PGlite data directory, dumped once (at `npm install`, by its
// postinstall) so that a new DATA_DIR is unpacked from it instead of running PostgreSQL's initdb inside PGlite, which
// costs 2-3 s of CPU on every first start. The file is named after what it depends on (PGlite's version, the
// migrations), so a stale one is never used: a start without a matching template simply runs initdb as before.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { createDatabase, openPglite } from './client';
import { migrateDatabase, migrationsFolder } from './migrate';

const require = createRequire(import.meta.url);

/** @electric-sql/pglite's package folder (its entry point is dist/index.cjs). */
const pgliteDir = join(dirname(require.resolve('@electric-sql/pglite')), '..');

/** Hash of what a migrated data directory depends on: PGlite's version and every migration file. */
function templateKey(migrations: string): string {
  const hash = createHash('sha256');
  hash.update((JSON.parse(readFileSync(join(pgliteDir, 'package.json'), 'utf8')) as { version: string }).version);
  for (const file of readdirSync(migrations, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name))
    .sort()) {
    hash.update(file.slice(migrations.length)).update(readFileSync(file));
  }
  return hash.digest('hex').slice(0, 16);
}

/** Where the template for this PGlite and these migrations lives: node_modules/.cache, beside the package it needs. */
export function pgliteTemplateFile(migrations = migrationsFolder): string {
  return join(pgliteDir, '..', '..', '.cache', 'universal-data-connector', `pglite-template-${templateKey(migrations)}.tar.gz`);
}

/** True when `dataDir` (on disk) holds no database yet, so that a template may be unpacked into it. */
export function isNewDataDir(dataDir: string | undefined): dataDir is string {
  return !!dataDir && !dataDir.startsWith('memory://') && !existsSync(join(dataDir, 'PG_VERSION'));
}

/** The template as PGlite's `loadDataDir` takes it, or undefined when none was made for this PGlite and migrations. */
export function readPgliteTemplate(file = pgliteTemplateFile()): Blob | undefined {
  try {
    return new Blob([readFileSync(file)]);
  } catch {
    return undefined;
  }
}

/** Makes the template: a new in-memory database, migrated, dumped gzipped (about 5 MB) to `file`, atomically. */
export async function makePgliteTemplate(file = pgliteTemplateFile()): Promise<{ file: string; bytes: number }> {
  const pglite = await openPglite();
  try {
    await migrateDatabase(await createDatabase({ pglite }));
    const bytes = Buffer.from(await (await pglite.dumpDataDir('gzip')).arrayBuffer());
    mkdirSync(dirname(file), { recursive: true });
    // Written beside and renamed, so that a start reading it meanwhile sees the whole file or none.
    const partial = `${file}.${process.pid}.partial`;
    writeFileSync(partial, bytes);
    renameSync(partial, file);
    return { file, bytes: bytes.length };
  } finally {
    await pglite.close();
  }
}
