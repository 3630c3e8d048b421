// `node dist/seed-demo.js [--tenant <id>]` (`npm run data:seed-demo`): imports the demo data in data/, its dates moved to
// today, into the configured database, but only when that database never held data: what `npm start` does for the
// embedded database on its first start, as a one-shot step for PostgreSQL (docker-compose.yml's `seed` service).
// Run again on a database with data, it changes nothing and exits 0.
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../src/config';
import { demoDataDir, shiftToNow } from '../src/db/demo';
import { ImportError, importDirectory } from '../src/db/import';
import { isEmptyDatabase, openConfiguredDatabase } from '../src/db/open';

async function main() {
  const { values } = parseArgs({ options: { tenant: { type: 'string' } } });
  const config = loadConfig();
  const tenantId = values.tenant ?? config.TENANT_ID;
  const database = await openConfiguredDatabase(config);
  try {
    if (!(await isEmptyDatabase(database))) {
      console.log(`the database (${database.kind}) already holds data: demo import skipped`);
      return;
    }
    const shift = shiftToNow(demoDataDir);
    const reports = await importDirectory(database, demoDataDir, { tenantId, shift });
    console.log(`imported the demo data for tenant "${tenantId}" (dates moved ${shift.days} days): ${reports.map((r) => `${r.file} ${r.records}`).join(', ')}`);
  } finally {
    await database.close();
  }
}

main().catch((error) => {
  console.error(error instanceof ImportError || error instanceof ConfigError ? error.message : `demo import failed: ${(error as Error).message}`);
  process.exit(1);
});
