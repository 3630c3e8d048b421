// npm's postinstall, after patch-package has applied patches/: makes the embedded database's template
// (src/db/template-cli.ts), so that the first `npm start` unpacks a migrated database instead of running initdb. It
// never fails an install: without the template (sources not copied yet, as in the Dockerfile's dependency layers) a
// first start only takes a few seconds longer.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

if (existsSync('src/db/template-cli.ts') && existsSync('migrations')) {
  const made = spawnSync(process.execPath, ['--import', 'tsx', 'src/db/template-cli.ts'], { stdio: 'inherit' });
  if (made.status !== 0) console.warn('postinstall: no embedded database template (a first start will run initdb instead)');
}
