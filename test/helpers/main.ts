// Runs the server's entry point (src/main.ts) as `npm start` does, in a child process, for tests of start-up,
// shutdown and faults: it resolves the URL the server prints and keeps its output for assertions.
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

/** The Node flags of `npm start` (package.json), so the entry point runs here as it does for users. */
const startFlags = (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { scripts: { start: string } }).scripts.start
  .split(/\s+/)
  .filter((token) => token.startsWith('--'));

export interface MainProcess {
  child: ChildProcess;
  output: () => string;
  url: Promise<string>;
}

export function startMain(env: Record<string, string>): MainProcess {
  const child = spawn(process.execPath, [...startFlags, '--import', 'tsx', 'src/main.ts'], {
    cwd: repoRoot,
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const url = new Promise<string>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = output.match(/GraphiQL: (http:\/\/\S+)/);
      if (match) resolve(match[1]);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`server exited with ${code}:\n${output}`)));
  });
  return { child, output: () => output, url };
}

export const exitOf = (child: ChildProcess) =>
  new Promise<number | null>((resolve) => (child.exitCode !== null ? resolve(child.exitCode) : child.once('exit', (code) => resolve(code))));
