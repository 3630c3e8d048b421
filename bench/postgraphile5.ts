// Gets PostGraphile v5, the second anchor, ready to run: a Node 22 binary (v5 needs Node 22 or newer; this one is
// Node 20) and bench/postgraphile5's own packages from its lock file. Either may need the npm registry the first
// time; without them the bench reports v5 as not measured, and says why, rather than failing the run.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

export interface Postgraphile5 {
  /** The node binary to run it with, and its version. */
  node: string;
  nodeVersion: string;
  script: string;
  version: string;
  connectionFilter: string;
}

const FOLDER = 'bench/postgraphile5';
const NODE_CACHE = 'node_modules/.cache/universal-data-connector/node-22';

function nodeBinary(log: (line: string) => void): string {
  if (Number(process.versions.node.split('.')[0]) >= 22) return process.execPath;
  const cached = join(NODE_CACHE, 'bin', 'node');
  if (!existsSync(cached)) {
    log(`PostGraphile v5 needs Node 22: fetching it into ${NODE_CACHE} (once)`);
    execFileSync('bash', ['.ci/fetch-node.sh', '22', NODE_CACHE], { stdio: ['ignore', 'ignore', 'inherit'] });
  }
  return cached;
}

/** npm ci in its folder when its packages are missing or older than its lock file. */
function install(log: (line: string) => void): void {
  const installed = join(FOLDER, 'node_modules', '.package-lock.json');
  if (existsSync(installed) && statSync(installed).mtimeMs >= statSync(join(FOLDER, 'package-lock.json')).mtimeMs) return;
  log(`installing PostGraphile v5 into ${FOLDER}/node_modules (npm ci, once)`);
  execFileSync('npm', ['ci', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: FOLDER, stdio: ['ignore', 'ignore', 'inherit'] });
}

const version = (name: string) => (JSON.parse(readFileSync(join(FOLDER, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;

export async function preparePostgraphile5(log: (line: string) => void): Promise<Postgraphile5 | { skipped: string }> {
  try {
    const node = nodeBinary(log);
    install(log);
    const nodeVersion = execFileSync(node, ['--version'], { encoding: 'utf8' }).trim();
    return { node, nodeVersion, script: join(FOLDER, 'server.mjs'), version: version('postgraphile'), connectionFilter: version('postgraphile-plugin-connection-filter') };
  } catch (error) {
    const skipped = `could not be installed (${(error as Error).message.split('\n')[0]})`;
    log(`PostGraphile v5 ${skipped}: measuring against v4 only`);
    return { skipped };
  }
}
