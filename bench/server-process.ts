// Starts bench/server.ts in its own process (so load generator and server don't share an event loop) and talks to it.
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { bundled } from './bundle';
import { profileFlags } from './stats';

export interface ServerStats {
  cache: { hits: number; misses: number } | null;
  rss: number;
  cpuMicros: number;
}

export interface ServerProcess {
  url: string;
  child: ChildProcess;
  /** Resident memory, CPU time so far and cache counters, asked over the IPC channel. */
  stats(): Promise<ServerStats>;
  stop(): Promise<void>;
}

/** The Node flags `npm start` gives the server (package.json's start script), so the benchmarked server runs as users run it. */
function startFlags(): string[] {
  const start = (JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: { start: string } }).scripts.start;
  return start.split(/\s+/).filter((token) => token.startsWith('--'));
}

/**
 * Spawns the bench server (or another script that prints READY <url> and answers "stats") and resolves once ready.
 * A TypeScript script runs from its bundle (bundle.ts), built as production code is built.
 * `node`: another node binary, for a plain JavaScript script, such as PostGraphile v5 on Node 22.
 * `wrapper`: a command the node process runs under (valgrind, for bench/instructions.ts).
 */
export async function spawnBenchServer(args: string[], script = 'bench/server.ts', options: { node?: string; wrapper?: string[] } = {}): Promise<ServerProcess> {
  const entry = script.endsWith('.ts') ? await bundled(script) : script;
  const command = [...(options.wrapper ?? []), options.node ?? process.execPath, ...startFlags(), ...profileFlags(), entry, ...args];
  const child = spawn(command[0], command.slice(1), {
    // As deployed (Dockerfile, docker-compose.yml, deploy/kubernetes): production mode, for ours and both PostGraphiles
    // alike (graphql-js, for one, checks every failed instanceof for a second copy of itself outside production).
    env: { ...process.env, NODE_ENV: 'production' },
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    child.on('exit', (code) => reject(new Error(`bench server (${args.join(' ')}) exited ${code}`)));
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = out.match(/READY (\S+)/);
      if (!match) return;
      child.removeAllListeners('exit');
      resolve({
        url: match[1],
        child,
        stats: () =>
          new Promise((ok) => {
            child.once('message', (m) => ok(m as ServerStats));
            child.send('stats');
          }),
        stop: () =>
          new Promise((done) => {
            child.once('exit', () => done());
            child.kill('SIGTERM');
          }),
      });
    });
  });
}
