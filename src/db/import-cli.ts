// `npm run data:import -- <dir> [--tenant <id>] [--replace] [--shift-to-today] [--no-analyze]`: imports seed-format
// files, then analyses the tables it wrote (planner statistics; autovacuum may be off or minutes behind).
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../config';
import { shiftToNow } from './demo';
import { ImportError, importDirectory } from './import';
import { DatabaseInUseError } from './lock';
import { openConfiguredDatabase } from './open';

const usage = 'usage: npm run data:import -- <dir> [--tenant <id>] [--replace] [--shift-to-today] [--no-analyze]';

async function main() {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      tenant: { type: 'string' },
      replace: { type: 'boolean', default: false },
      'shift-to-today': { type: 'boolean', default: false },
      // Leave the planner statistics as they were (measuring what ANALYZE buys; a later ANALYZE of your own).
      'no-analyze': { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help || positionals.length !== 1) {
    console.error(usage);
    process.exit(values.help ? 0 : 2);
  }
  const dir = positionals[0];
  const config = loadConfig();
  const tenantId = values.tenant ?? config.TENANT_ID;
  const database = await openConfiguredDatabase(config);
  const started = Date.now();
  try {
    const reports = await importDirectory(database, dir, {
      tenantId,
      replace: values.replace,
      shift: values['shift-to-today'] ? shiftToNow(dir) : undefined,
      analyze: !values['no-analyze'],
      onProgress: (file, n) => process.stderr.write(`${file}: ${n.toLocaleString('en-US')} records read\n`),
      onAnalyzed: (tables, ms) => process.stderr.write(`analysed ${tables.join(', ')} in ${(ms / 1000).toFixed(1)} s\n`),
    });
    for (const r of reports) {
      console.log(`${r.file}: ${r.records} records (${r.inserted} new, ${r.updated} updated, ${r.unchanged} unchanged)`);
    }
    console.log(`imported into ${database.kind} for tenant "${tenantId}" in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  } finally {
    await database.close();
  }
}

main().catch((error) => {
  if (error instanceof ImportError || error instanceof ConfigError || error instanceof DatabaseInUseError) console.error(error.message);
  else console.error(`import failed: ${(error as Error).message}`);
  process.exit(1);
});
