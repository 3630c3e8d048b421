// `npx tsx bench/first-start.ts [--runs 3] [--npm]`: how long a first start takes, as a new user meets it. Each run
// starts the server on a fresh, empty data directory (DATA_DIR in a temp dir, no DATABASE_URL), timestamps every line
// it prints from the moment of spawning, and asks one GraphQL query as soon as the URL is printed; the run ends at
// the first answer. `--npm` spawns `npm start` itself (npm's own start-up included); without it, node with the start
// script's flags, as test/helpers/main.ts does. `--keep-dir <dir>` reuses one data directory (a second start).
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '1' },
    npm: { type: 'boolean', default: false },
    'keep-dir': { type: 'string' },
    quiet: { type: 'boolean', default: false },
    // Another entry point than src/main.ts (a prototype, or dist/main.js run by plain node).
    entry: { type: 'string', default: 'src/main.ts' },
  },
});

const startFlags = (JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: { start: string } }).scripts.start
  .split(/\s+/)
  .filter((token) => token.startsWith('--'));

interface Run {
  lines: { ms: number; line: string }[];
  urlMs: number;
  firstAnswerMs: number;
  /** CPU seconds (user + system, all threads) the spawned process had used when the URL was printed. */
  cpuSeconds: number | null;
}

/** utime + stime of a process from /proc (Linux), in seconds; null elsewhere. */
function cpuOf(pid: number): number | null {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return null;
  }
}

async function once(): Promise<Run> {
  const dataDir = values['keep-dir'] ?? mkdtempSync(join(tmpdir(), 'udc-first-start-'));
  const env = { ...process.env, DATA_DIR: dataDir, DATABASE_URL: '', PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', REDIS_URL: '' };
  const t0 = performance.now();
  const child = values.npm
    ? // Its own process group: npm dies of SIGTERM without passing it on, so the whole group is signalled.
      spawn('npm', ['start'], { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true })
    : spawn(process.execPath, [...startFlags, ...(values.entry.endsWith('.js') ? [] : ['--import', 'tsx']), values.entry], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: Run['lines'] = [];
  let pending = '';
  const url = await new Promise<string>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      pending += chunk.toString();
      let nl: number;
      while ((nl = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        if (!line.trim()) continue;
        const ms = performance.now() - t0;
        lines.push({ ms, line });
        if (!values.quiet) process.stderr.write(`${(ms / 1000).toFixed(2).padStart(7)} s  ${line.slice(0, 200)}\n`);
        const match = line.match(/GraphiQL: (http:\/\/\S+)/);
        if (match) resolve(match[1]);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
  });
  const urlMs = performance.now() - t0;
  const cpuSeconds = values.npm ? null : cpuOf(child.pid!);
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query: '{ tickets(filter: {status: OPEN}, first: 1) { totalCount } }' }),
  });
  const body = await response.text();
  const firstAnswerMs = performance.now() - t0;
  if (!values.quiet) process.stderr.write(`${(firstAnswerMs / 1000).toFixed(2).padStart(7)} s  first answer: ${body.slice(0, 120)}\n`);
  await new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    if (values.npm) process.kill(-child.pid!, 'SIGTERM');
    else child.kill('SIGTERM');
  });
  if (!values['keep-dir']) rmSync(dataDir, { recursive: true, force: true });
  return { lines, urlMs, firstAnswerMs, cpuSeconds };
}

const runs: Run[] = [];
for (let i = 0; i < Number(values.runs); i++) runs.push(await once());
const fmt = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
process.stdout.write(
  `${values.npm ? 'npm start' : `node (start flags) ${values.entry.endsWith('.js') ? '' : '--import tsx '}${values.entry}`}, ${values['keep-dir'] ? `DATA_DIR ${values['keep-dir']}` : 'fresh DATA_DIR each run'}: URL printed at ${runs.map((r) => fmt(r.urlMs)).join(', ')}; first answer at ${runs.map((r) => fmt(r.firstAnswerMs)).join(', ')}${runs[0].cpuSeconds === null ? '' : `; server CPU at the URL ${runs.map((r) => `${r.cpuSeconds!.toFixed(1)} s`).join(', ')}`}; load average ${loadavg().map((n) => n.toFixed(1)).join(' ')}\n`,
);
