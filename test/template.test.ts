// The embedded database's install-time template (src/db/template.ts): a new DATA_DIR unpacked from it holds exactly
// the database that initdb and the migrations make, keeps what is written to it, and a template made for other
// migrations is never used. Embedded database only: PostgreSQL never uses it.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { type Database, createDatabase } from '../src/db/client';
import { migrateDatabase, migrationsFolder } from '../src/db/migrate';
import { databaseStart } from '../src/db/open';
import { isNewDataDir, makePgliteTemplate, pgliteTemplateFile, readPgliteTemplate } from '../src/db/template';
import { usingPostgres } from './helpers/database';
import { exitOf, repoRoot, startMain } from './helpers/main';

const demoCustomers = (JSON.parse(readFileSync(join(repoRoot, 'data', 'customers.json'), 'utf8')) as unknown[]).length;

const scratch = mkdtempSync(join(tmpdir(), 'udc-template-'));
const opened: Database[] = [];
afterAll(async () => {
  for (const database of opened) await database.close();
});

/** Every table, column, index, constraint, trigger and function of the public schema, as one sorted text. */
async function catalogOf(database: Database): Promise<string[]> {
  const rows = await database.rows<{ line: string }>(sql`
    SELECT 'column ' || table_name || '.' || column_name || ' ' || data_type || ' ' || is_nullable || ' ' || coalesce(column_default, '') AS line
      FROM information_schema.columns WHERE table_schema = 'public'
    UNION ALL SELECT 'index ' || indexdef FROM pg_indexes WHERE schemaname = 'public'
    UNION ALL SELECT 'constraint ' || conrelid::regclass || ' ' || pg_get_constraintdef(oid) FROM pg_constraint WHERE connamespace = 'public'::regnamespace
    UNION ALL SELECT 'trigger ' || tgrelid::regclass || ' ' || tgname FROM pg_trigger WHERE NOT tgisinternal
    UNION ALL SELECT 'function ' || proname || ' ' || md5(prosrc) FROM pg_proc WHERE pronamespace = 'public'::regnamespace
    UNION ALL SELECT 'extension ' || extname FROM pg_extension
    UNION ALL SELECT 'migration ' || hash FROM drizzle.__drizzle_migrations`);
  return rows.map((row) => row.line).sort();
}

async function open(dataDir: string, template?: Blob): Promise<Database> {
  const database = await createDatabase({ dataDir, pgliteTemplate: template });
  opened.push(database);
  await migrateDatabase(database);
  return database;
}

describe.skipIf(usingPostgres)('the embedded database template', () => {
  const file = join(scratch, 'template.tar.gz');

  it('unpacks into a new DATA_DIR as the same database initdb and the migrations make, and keeps what is written', async () => {
    await makePgliteTemplate(file);
    const template = readPgliteTemplate(file);
    expect(template?.size).toBeGreaterThan(1_000_000);

    const fromInitdb = await open(join(scratch, 'initdb'));
    const fromTemplate = await open(join(scratch, 'unpacked'), template);
    const expected = await catalogOf(fromInitdb);
    expect(expected.filter((line) => line.startsWith('migration ')).length).toBeGreaterThan(5);
    expect(await catalogOf(fromTemplate)).toEqual(expected);

    await fromTemplate.rows(sql`INSERT INTO data_changes (tenant_id, source, changed_at) VALUES ('t1', 'customers', now())`);
    await fromTemplate.close();
    expect(isNewDataDir(join(scratch, 'unpacked'))).toBe(false);
    // Reopened without a template: the unpacked directory is a database of its own, with the row written to it.
    const reopened = await open(join(scratch, 'unpacked'));
    expect(await reopened.rows(sql`SELECT source FROM data_changes WHERE tenant_id = 't1'`)).toEqual([{ source: 'customers' }]);
  });

  it('is named after PGlite and the migrations: any change to a migration names another file, so a stale one is not read', () => {
    const copy = join(scratch, 'migrations');
    cpSync(migrationsFolder, copy, { recursive: true });
    expect(pgliteTemplateFile(copy)).toBe(pgliteTemplateFile());
    writeFileSync(join(copy, '0001_tables.sql'), '-- changed\n', { flag: 'a' });
    expect(pgliteTemplateFile(copy)).not.toBe(pgliteTemplateFile());
    expect(readPgliteTemplate(join(scratch, 'missing.tar.gz'))).toBeUndefined();
    // Without a template for these migrations a new directory is made by initdb (and main.ts says so).
    const fresh = { DATABASE_URL: undefined, DATA_DIR: join(scratch, 'never-opened') };
    expect(databaseStart(fresh, join(scratch, 'missing.tar.gz'))).toBe('initdb');
    expect(databaseStart({ ...fresh, DATABASE_URL: 'postgres://x' }, join(scratch, 'missing.tar.gz'))).toBe('postgres');
  });

  it("npm's postinstall never fails an install: without the sources (the Dockerfile's dependency layers) it does nothing", () => {
    const empty = mkdtempSync(join(tmpdir(), 'udc-postinstall-'));
    const run = spawnSync(process.execPath, [join(repoRoot, 'scripts', 'postinstall.mjs')], { cwd: empty, encoding: 'utf8' });
    expect(run.status).toBe(0);
    expect(run.stdout + run.stderr).toBe('');
  });

  it('npm start creates a new DATA_DIR from it (made here if npm install did not), then imports the demo data', { timeout: 120_000 }, async () => {
    if (!existsSync(pgliteTemplateFile())) await makePgliteTemplate();
    const dataDir = join(scratch, 'main');
    expect(databaseStart({ DATABASE_URL: undefined, DATA_DIR: dataDir })).toBe('template');
    const main = startMain({ DATA_DIR: dataDir, DATABASE_URL: '' });
    const url = await main.url;
    const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ customers { totalCount } }' }) });
    expect((await response.json()).data.customers.totalCount).toBe(demoCustomers);
    main.child.kill('SIGTERM');
    expect(await exitOf(main.child)).toBe(0);
    expect(main.output()).toContain('"from":"template"');
    expect(main.output()).toContain('imported demo data');
    expect(databaseStart({ DATABASE_URL: undefined, DATA_DIR: dataDir })).toBe('existing');
  });
});
