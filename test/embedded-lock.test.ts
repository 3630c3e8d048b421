// The embedded database belongs to one process: a running server holds its data directory, so `data:import` (or a
// second server) is refused with a message saying what to do; a lock left by a killed process is taken over; a server
// stopped with SIGTERM lets go of it.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createDatabase } from '../src/db/client';
import { DatabaseInUseError, LOCK_FILE, lockDataDir } from '../src/db/lock';
import { usingPostgres } from './helpers/database';
import { type MainProcess, exitOf, repoRoot, startMain } from './helpers/main';
import { generatedDataDir } from './helpers/server';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** `npm run data:import -- <dir> --tenant acme` as a child process, run by node itself (npm hides exit codes on signals). */
function dataImport(dataDir: string, dir: string): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'src/db/import-cli.ts', dir, '--tenant', 'acme'],
      { cwd: repoRoot, env: { ...process.env, DATA_DIR: dataDir, DATABASE_URL: '' } },
      (error, stdout, stderr) => resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** The pid of a process that has exited (a short-lived child), so certainly not alive now. */
async function deadPid(): Promise<number> {
  const child = execFile(process.execPath, ['-e', '']);
  await exitOf(child);
  return child.pid!;
}

const servers: MainProcess[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    if (s.child.exitCode === null && s.child.signalCode === null) {
      s.child.kill('SIGKILL');
      await exitOf(s.child);
    }
  }
});

describe.skipIf(usingPostgres)('the embedded database is single-process (lock file in DATA_DIR)', () => {
  // Child processes each start tsx and PGlite (a first start also imports the demo data): tens of seconds on a busy machine.
  it('a running server holds DATA_DIR: data:import and a second server are refused, nothing is written; after SIGTERM it imports', { timeout: 180_000 }, async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'udc-lock-'));
    const dataset = await generatedDataDir({ customers: 5, tickets: 12, days: 3, seed: 7, anchorDate: '2026-11-24' });
    const server = startMain({ DATA_DIR: dataDir, DATABASE_URL: '' });
    servers.push(server);
    await server.url;
    expect(readFileSync(join(dataDir, LOCK_FILE), 'utf8').trim()).toBe(String(server.child.pid));

    const refused = await dataImport(dataDir, dataset);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(
      `The embedded database at ${dataDir} is in use by process ${server.child.pid} (a running server?). Stop it first, or import through the server's database: set DATABASE_URL to use PostgreSQL.`,
    );
    expect(refused.stderr).not.toMatch(/\n\s+at /);
    expect(refused.stdout).not.toContain('records (');
    // A second server stops at start-up with the same message, and leaves the first one's lock alone.
    const second = startMain({ DATA_DIR: dataDir, DATABASE_URL: '' });
    servers.push(second);
    second.url.catch(() => {});
    expect(await exitOf(second.child)).toBe(1);
    expect(second.output()).toContain(`The embedded database at ${dataDir} is in use by process ${server.child.pid}`);
    expect(readFileSync(join(dataDir, LOCK_FILE), 'utf8').trim()).toBe(String(server.child.pid));
    // The server still answers.
    const r = await fetch(await server.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ tickets { totalCount } }' }) });
    expect((await r.json()).data.tickets.totalCount).toBeGreaterThan(0);

    server.child.kill('SIGTERM');
    expect(await exitOf(server.child)).toBe(0);
    expect(existsSync(join(dataDir, LOCK_FILE))).toBe(false);

    // Every record is new: the refused run wrote nothing.
    const ok = await dataImport(dataDir, dataset);
    // stderr shows in the failure message when it fails.
    expect({ code: ok.code, stderr: ok.code ? ok.stderr : '' }).toEqual({ code: 0, stderr: '' });
    expect(ok.stdout).toContain('customers.json: 5 records (5 new, 0 updated, 0 unchanged)');
    expect(ok.stdout).toContain('support_tickets.json: 12 records (12 new, 0 updated, 0 unchanged)');
    expect(existsSync(join(dataDir, LOCK_FILE))).toBe(false);
  });

  it('a lock left by a server killed with SIGKILL is stale: the next import takes it over', { timeout: 180_000 }, async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'udc-lock-'));
    const dataset = await generatedDataDir({ customers: 5, tickets: 12, days: 3, seed: 8, anchorDate: '2026-11-24' });
    const server = startMain({ DATA_DIR: dataDir, DATABASE_URL: '' });
    servers.push(server);
    await server.url;
    server.child.kill('SIGKILL');
    await exitOf(server.child);
    expect(readFileSync(join(dataDir, LOCK_FILE), 'utf8').trim()).toBe(String(server.child.pid));

    const ok = await dataImport(dataDir, dataset);
    expect({ code: ok.code, stderr: ok.code ? ok.stderr : '' }).toEqual({ code: 0, stderr: '' });
    expect(ok.stdout).toContain('support_tickets.json: 12 records (12 new, 0 updated, 0 unchanged)');
    expect(existsSync(join(dataDir, LOCK_FILE))).toBe(false);
  });

  it('in one process: a lock file naming a dead pid is taken over, the directory cannot be opened twice, close releases', { timeout: 120_000 }, async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'udc-lock-'));
    const lockPath = join(dataDir, LOCK_FILE);
    writeFileSync(lockPath, `${await deadPid()}\n`);
    const database = await createDatabase({ dataDir });
    try {
      expect(readFileSync(lockPath, 'utf8').trim()).toBe(String(process.pid));
      // Our own pid, but this process holds it: in use.
      expect(() => lockDataDir(dataDir)).toThrowError(DatabaseInUseError);
      await expect(createDatabase({ dataDir })).rejects.toThrowError(`The embedded database at ${dataDir} is in use by process ${process.pid}`);
    } finally {
      await database.close();
    }
    expect(existsSync(lockPath)).toBe(false);

    // Our own pid in a lock this process does not hold: a predecessor with the same pid (a restarted container).
    writeFileSync(lockPath, `${process.pid}\n`);
    const again = lockDataDir(dataDir);
    again.release();
    expect(existsSync(lockPath)).toBe(false);
    // memory:// takes no lock.
    const inMemory = await createDatabase({ dataDir: 'memory://' });
    await inMemory.close();
  });
});
